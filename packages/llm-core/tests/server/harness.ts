// Starts a real control plane (HTTP server + sim engines as child processes) for server tests:
// free ports everywhere (the server on port 0, engines from a random high port range), a temporary
// SAGE_HOME, and a teardown that stops every process it started.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startControlPlaneServer, type ControlPlaneServerConfig, type RunningControlPlane } from '../../src';

export interface Harness {
  cp: RunningControlPlane;
  baseURL: string;
  sageHome: string;
  stop(): Promise<void>;
}

/** A 40-port block per test file, chosen at random in 10000-19999: below Linux's ephemeral ports (32768+), which port-0 listeners
 * take between the allocator's probe and an engine's bind, and apart from the lifecycle tests' 20000-31999. */
function randomRanges() {
  const base = 10000 + Math.floor(Math.random() * 250) * 40;
  return { llm: { start: base, end: base + 14 }, embedding: { start: base + 15, end: base + 29 }, fallback: { start: base + 30, end: base + 39 } };
}

export async function startHarness(config: ControlPlaneServerConfig = {}): Promise<Harness> {
  const sageHome = mkdtempSync(path.join(tmpdir(), 'sage-test-'));
  const cp = await startControlPlaneServer({
    port: 0,
    auth: { apiKeys: [] },
    ...config,
    runtime: {
      sageHome,
      portRanges: randomRanges(),
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

/** True while a process with this pid exists. */
export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Test-only: JSON bodies are asserted field by field, so they are read untyped. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonBody = any;

export async function getJson(url: string, init?: RequestInit): Promise<JsonBody> {
  return (await fetch(url, init)).json();
}
