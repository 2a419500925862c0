// Shared set-up for lifecycle tests with real child processes: a temporary SAGE_HOME, port ranges on
// high ports this test probes itself, and bookkeeping so afterAll can prove nothing is left running.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { EngineLifecycleManager, isAlive, PortAllocator, type EngineStartSpec, type LifecycleOptions } from '../../src';

export const FIXTURE = path.join(__dirname, 'lifecycle-fixtures', 'http-engine.cjs');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/**
 * An allocator on a random block of 100 ports in 20000–31999: below Linux's ephemeral range (32768+), where
 * outgoing connections would take ports between our probe and the engine's bind. The allocator probes each one.
 */
export async function testPorts(): Promise<PortAllocator> {
  const base = 20000 + 100 * Math.floor(Math.random() * 120);
  return new PortAllocator({
    ranges: { llm: { start: base, end: base + 29 }, embedding: { start: base + 30, end: base + 59 }, fallback: { start: base + 60, end: base + 99 } },
  });
}

export function tempHome(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'sage-lifecycle-'));
}

export function fixtureSpec(extra: string[] = [], patch: Partial<EngineStartSpec> = {}): EngineStartSpec {
  return {
    kind: 'sim-llm',
    model: 'fixture-model',
    command: { command: process.execPath, args: [FIXTURE, '--port', '{port}', '--model', '{model}', ...extra] },
    ...patch,
  };
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Managers and pids created by a test file; cleanUp() stops them all and reports survivors. */
export class Harness {
  readonly managers: EngineLifecycleManager[] = [];
  readonly homes: string[] = [];
  readonly pids = new Set<number>();

  async manager(options: Partial<LifecycleOptions> = {}): Promise<EngineLifecycleManager> {
    const sageHome = options.sageHome ?? tempHome();
    if (!options.sageHome) this.homes.push(sageHome);
    const m = new EngineLifecycleManager({
      ports: options.ports ?? (await testPorts()),
      sageHome,
      startupTimeoutMs: 15_000,
      startupPollMs: 50,
      stopGraceMs: 2000,
      ...options,
    });
    this.managers.push(m);
    return m;
  }

  track(pid: number | undefined): void {
    if (pid !== undefined) this.pids.add(pid);
  }

  async cleanUp(): Promise<number[]> {
    for (const m of this.managers) {
      for (const e of m.listEngines()) this.track(e.pid);
      await m.stopAll({ graceMs: 500 });
    }
    const survivors = [...this.pids].filter(isAlive);
    for (const pid of survivors) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    for (const h of this.homes) fs.rmSync(h, { recursive: true, force: true });
    return survivors;
  }
}
