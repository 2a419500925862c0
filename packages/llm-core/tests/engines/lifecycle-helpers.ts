// Shared set-up for lifecycle tests with real child processes: a temporary SAGE_HOME, port ranges on
// high ports this test probes itself, and bookkeeping so afterAll can prove nothing is left running.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { EngineLifecycleManager, PortAllocator, type EngineStartSpec, type LifecycleOptions } from '../../src';
import { isAlive } from '../../src/engines/lifecycle';

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

const LOCK_DIR = path.join(os.tmpdir(), 'sage-test-port-blocks');
const BLOCKS = 120;
const BLOCK_SIZE = 100;

/**
 * Claims a block of 100 ports in 20000–31999 for this process: below Linux's ephemeral range (32768+), where
 * outgoing connections would take ports between a probe and an engine's bind, and exclusive among concurrent
 * test processes (a lock file per block, reclaimed when its owner is dead) so that a port one test's engine
 * frees while it restarts is not handed to another test's engine.
 */
function claimBlock(): { base: number; release: () => void } {
  fs.mkdirSync(LOCK_DIR, { recursive: true });
  const start = Math.floor(Math.random() * BLOCKS);
  for (let i = 0; i < BLOCKS; i++) {
    const block = (start + i) % BLOCKS;
    const lock = path.join(LOCK_DIR, `${block}.lock`);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
        return { base: 20000 + block * BLOCK_SIZE, release: () => fs.rmSync(lock, { force: true }) };
      } catch {
        const owner = Number(fs.readFileSync(lock, 'utf8'));
        if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) break;
        fs.rmSync(lock, { force: true }); // stale: its process is gone
      }
    }
  }
  throw new Error('no free test port block');
}

const releases = new WeakMap<PortAllocator, () => void>();

/** Gives a test allocator's block back (stale blocks of dead processes are reclaimed anyway). */
export function releaseTestPorts(ports: PortAllocator): void {
  releases.get(ports)?.();
}

/** A fresh allocator on a block of ports claimed for this process (the allocator still probes each port). */
export async function testPorts(): Promise<PortAllocator> {
  const { base, release } = claimBlock();
  const ports = new PortAllocator({
    ranges: { llm: { start: base, end: base + 29 }, embedding: { start: base + 30, end: base + 59 }, fallback: { start: base + 60, end: base + 99 } },
  });
  releases.set(ports, release);
  return ports;
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
  private allocator: PortAllocator | undefined;

  /** The one allocator of this test file, shared by its managers as the control plane shares its own. */
  async ports(): Promise<PortAllocator> {
    this.allocator ??= await testPorts();
    return this.allocator;
  }

  async manager(options: Partial<LifecycleOptions> = {}): Promise<EngineLifecycleManager> {
    const sageHome = options.sageHome ?? tempHome();
    if (!options.sageHome) this.homes.push(sageHome);
    const m = new EngineLifecycleManager({
      ports: options.ports ?? (await this.ports()),
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
    if (this.allocator) releaseTestPorts(this.allocator);
    return survivors;
  }
}

/** Ports the allocator holds for engines of this manager (the allocator is shared by the file's managers). */
export function portsHeldBy(m: EngineLifecycleManager): number[] {
  const ids = new Set(m.listEngines().map((e) => e.id));
  return m.ports.reservations().filter((r) => ids.has(r.owner)).map((r) => r.port);
}
