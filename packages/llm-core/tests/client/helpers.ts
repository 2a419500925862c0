// Helpers for embedded-client tests: random port ranges (the PortAllocator also probes, so a clash with a
// parallel run only moves a port), a private stateRoot per test, and process checks.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export { randomPortRanges, inRanges } from '../support/ports';
export { alive, running, childPids, waitFor } from '../support/processes';

/** A fresh directory for an embedded client's stateRoot, and what is in it. */
export function tempRoot(): { dir: string; entries(): string[]; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'sage-client-test-'));
  return { dir, entries: () => readdirSync(dir), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

