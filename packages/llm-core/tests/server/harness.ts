// Starts a real control plane (HTTP server + sim engines as child processes) for server tests:
// free ports everywhere (the server on port 0, engines from a random port block), a temporary
// SAGE_HOME, and a teardown that stops every process it started.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startControlPlaneServer, type ControlPlaneServerConfig, type RunningControlPlane } from '../../src';
import { randomPortRanges } from '../support/ports';

export { alive } from '../support/processes';

export interface Harness {
  cp: RunningControlPlane;
  baseURL: string;
  sageHome: string;
  stop(): Promise<void>;
}

export async function startHarness(config: ControlPlaneServerConfig = {}): Promise<Harness> {
  const sageHome = mkdtempSync(path.join(tmpdir(), 'sage-test-'));
  const cp = await startControlPlaneServer({
    port: 0,
    auth: { apiKeys: [] },
    ...config,
    runtime: {
      sageHome,
      portRanges: randomPortRanges(),
      simTimeScale: 0.05,
      engineStopGraceMs: 2000,
      ...config.runtime,
    },
  });
  return {
    cp,
    baseURL: `${cp.url}/v1`,
    sageHome,
    async stop() {
      await cp.close(2000);
      rmSync(sageHome, { recursive: true, force: true });
    },
  };
}


/** Test-only: JSON bodies are asserted field by field, so they are read untyped. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonBody = any;

export async function getJson(url: string, init?: RequestInit): Promise<JsonBody> {
  return (await fetch(url, init)).json();
}
