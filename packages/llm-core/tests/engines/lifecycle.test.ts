// EngineLifecycleManager with real child processes (a small HTTP fixture standing in for an engine).
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import {
  EngineConflictError,
  EngineStartError,
  EngineState,
  GpuAllocationError,
  GPUResourceManager,
  PortAllocator,
  PortConflictError,
} from '../../src';
import { EngineSupervisor, isAlive, readStateFile } from '../../src/engines/lifecycle';
import { mockGpusFromEnv } from '../../src/engines/gpu';
import { Harness, fixtureSpec, freePort, waitFor, portsHeldBy } from './lifecycle-helpers';

const h = new Harness();
afterAll(async () => {
  const survivors = await h.cleanUp();
  expect(survivors).toEqual([]);
});

const states = (events: { type: string; state?: string }[]): (string | undefined)[] => events.filter((e) => e.type === 'state').map((e) => e.state);

describe('start and stop', () => {
  it('STARTING → RUNNING after the first healthy answer; logs, state file; stop releases everything', async () => {
    const m = await h.manager();
    const changes: string[] = [];
    const unsubscribe = m.onStateChange((c) => changes.push(`${c.id} ${c.from}→${c.to} ${c.engine.state}`));
    const info = await m.start(fixtureSpec([], { id: 'fx-1', category: 'llm', maxConcurrentRequests: 7 }));
    h.track(info.pid);
    expect(info).toMatchObject({ id: 'fx-1', state: EngineState.RUNNING, category: 'llm', adopted: false, restarts: 0, maxConcurrentRequests: 7 });
    expect(info.pid && isAlive(info.pid)).toBe(true);
    expect(states(info.events)).toEqual(['STARTING', 'RUNNING']);
    expect(info.baseUrl).toBe(`http://127.0.0.1:${info.port}/v1`);
    expect(info.logFile).toBe(path.join(m.sageHome, 'logs', 'engines', 'fx-1.log'));
    await waitFor(() => fs.readFileSync(info.logFile, 'utf8').includes('"event":"listening"'), 5000, 'the engine to log');
    const stored = readStateFile(m.stateFile).engines;
    expect(stored).toEqual([expect.objectContaining({ id: 'fx-1', pid: info.pid, port: info.port, kind: 'sim-llm', model: 'fixture-model', command: info.command })]);
    expect(await m.healthCheck('fx-1')).toBe(true);
    expect(m.listEngines().map((e) => e.id)).toEqual(['fx-1']);

    const stopped = await m.stop('fx-1');
    expect(stopped.state).toBe(EngineState.STOPPED);
    expect(states(stopped.events)).toEqual(['STARTING', 'RUNNING', 'STOPPING', 'STOPPED']);
    expect(isAlive(info.pid as number)).toBe(false);
    expect(m.getEngine('fx-1')?.pid).toBeUndefined();
    expect(readStateFile(m.stateFile).engines).toEqual([]);
    expect(await m.healthCheck('fx-1')).toBe(false);
    expect(changes).toEqual(['fx-1 STARTING→RUNNING RUNNING', 'fx-1 RUNNING→STOPPING STOPPING', 'fx-1 STOPPING→STOPPED STOPPED']);
    unsubscribe();
    await expect(m.prune()).resolves.toEqual(['fx-1']);
    expect(m.listEngines()).toEqual([]);
  });

  it('a process that exits at once → FAILED with its log in the error; port released', async () => {
    const m = await h.manager();
    const err = await m.start(fixtureSpec(['--exit-immediately', '2'], { id: 'dies' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineStartError);
    expect((err as Error).message).toMatch(/exited \(code 2\)/);
    expect((err as Error).message).toMatch(/exiting at once with code 2/); // the log tail
    const info = m.getEngine('dies');
    expect(info?.state).toBe(EngineState.FAILED);
    expect(m.supervisedIds()).not.toContain('dies'); // a failed first start is reported, not retried
    expect(portsHeldBy(m)).toEqual([]);
  });

  it('a command that does not exist → FAILED with the reason', async () => {
    const m = await h.manager();
    const err = await m.start({ id: 'nope', kind: 'vllm', model: 'm', useGpu: false, command: { command: '/nonexistent/sage-engine-xyz', args: [] } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineStartError);
    expect((err as Error).message).toMatch(/ENOENT/);
  });

  it('no healthy answer within the start-up timeout → killed and FAILED', async () => {
    const m = await h.manager({ startupTimeoutMs: 600 });
    const err = await m.start(fixtureSpec(['--start-delay-ms', '20000'], { id: 'slow' })).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/no healthy answer within 600 ms/);
    const events = m.getEngine('slow')?.events ?? [];
    expect(states(events)).toEqual(['STARTING', 'FAILED']);
    await waitFor(() => events.length > 0 && readStateFile(m.stateFile).engines.length === 0, 5000, 'the state file to drop the process');
  });

  it('SIGTERM ignored → SIGKILL after the grace period, and the whole process group goes', async () => {
    const m = await h.manager();
    const gcFile = path.join(m.sageHome, 'grandchild.pid');
    const info = await m.start(fixtureSpec(['--ignore-sigterm', '--grandchild-pid-file', gcFile], { id: 'stubborn' }));
    h.track(info.pid);
    const grandchild = Number(fs.readFileSync(gcFile, 'utf8'));
    h.track(grandchild);
    expect(isAlive(grandchild)).toBe(true);
    const t0 = Date.now();
    const stopped = await m.stop('stubborn', { graceMs: 300 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(stopped.events.some((e) => /ignored SIGTERM for 300 ms: SIGKILL/.test(e.message))).toBe(true);
    expect(isAlive(info.pid as number)).toBe(false);
    await waitFor(() => !isAlive(grandchild), 3000, 'the grandchild to die');
  });

  it('conflicts: a live id, an explicit port in use', async () => {
    const m = await h.manager();
    const a = await m.start(fixtureSpec([], { id: 'dup' }));
    h.track(a.pid);
    await expect(m.start(fixtureSpec([], { id: 'dup' }))).rejects.toBeInstanceOf(EngineConflictError);
    const err = await m.start(fixtureSpec([], { id: 'other', port: a.port })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortConflictError);
    expect(err).toMatchObject({ status: 409, reason: 'port_reserved' });
    expect(m.getEngine('other')).toBeUndefined();
    // an explicit free port is honoured
    const p = await freePort();
    const b = await m.start(fixtureSpec([], { id: 'explicit', port: p }));
    h.track(b.pid);
    expect(b.port).toBe(p);
    // two concurrent starts of one id: one wins, the other is a conflict
    const twins = await Promise.allSettled([m.start(fixtureSpec([], { id: 'twin' })), m.start(fixtureSpec([], { id: 'twin' }))]);
    expect(twins.map((t) => t.status).sort()).toEqual(['fulfilled', 'rejected']);
    const lost = twins.find((t) => t.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toBeInstanceOf(EngineConflictError);
    h.track(m.getEngine('twin')?.pid);
    expect(m.ports.portsOf('twin')).toHaveLength(1);
    // a stopped id can be started again
    await m.stop('dup');
    const again = await m.start(fixtureSpec([], { id: 'dup' }));
    h.track(again.pid);
    expect(again.state).toBe(EngineState.RUNNING);
  });

  it('an allocated port taken by another process before the engine binds it: moved once to the next free port', async () => {
    const real = await h.ports();
    const squatter = net.createServer((socket) => socket.destroy()); // holds the port, speaks no HTTP
    const first = await real.peek('embedding');
    await new Promise<void>((r) => squatter.listen(first, '127.0.0.1', () => r()));
    try {
      // an allocator whose probe misses the squatter, as when it binds between our probe and the engine's bind
      const blind = new PortAllocator({ ranges: { ...real.ranges }, probe: async () => false });
      const m = await h.manager({ ports: blind });
      const info = await m.start(fixtureSpec([], { id: 'moved', kind: 'sim-embedding' }));
      h.track(info.pid);
      expect(info.state).toBe(EngineState.RUNNING);
      expect(info.port).not.toBe(first);
      expect(blind.portsOf('moved')).toEqual([info.port]);
      expect(info.events.map((e) => e.message)).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`port ${first} was taken by another process`))]));
      await m.stop('moved');
    } finally {
      await new Promise((r) => squatter.close(r));
    }
  });

  it('credentials in the command line never reach status, events or the log; the owner-only state file keeps them', async () => {
    const m = await h.manager();
    const info = await m.start(fixtureSpec(['--api-key', 'sk-very-secret'], { id: 'keyed' }));
    h.track(info.pid);
    expect(info.command).toContain('***');
    expect(JSON.stringify(m.getEngine('keyed'))).not.toContain('sk-very-secret');
    expect(fs.readFileSync(info.logFile, 'utf8')).not.toContain('sk-very-secret');
    expect(readStateFile(m.stateFile).engines.find((e) => e.id === 'keyed')?.command).toContain('sk-very-secret');
    expect(fs.statSync(m.stateFile).mode & 0o777).toBe(0o600);
    await m.stop('keyed');
  });

  it('restart keeps id and port, with a new process', async () => {
    const m = await h.manager();
    const a = await m.start(fixtureSpec([], { id: 'rs' }));
    h.track(a.pid);
    const b = await m.restart('rs');
    h.track(b.pid);
    expect(b).toMatchObject({ id: 'rs', port: a.port, state: EngineState.RUNNING, restarts: 1 });
    expect(b.pid).not.toBe(a.pid);
    expect(isAlive(a.pid as number)).toBe(false);
    expect(b.events.some((e) => e.type === 'restart')).toBe(true);
  });
});

describe('GPUs', () => {
  it('useGpu in mock mode grants a GPU through CUDA_VISIBLE_DEVICES; an engine that does not fit is a 409 and holds nothing', async () => {
    const gpus = new GPUResourceManager({ gpus: mockGpusFromEnv({ SAGE_GPU_MOCK_COUNT: '2', SAGE_GPU_MOCK_MEMORY_GB: '24' }) });
    const m = await h.manager({ gpus });
    const cpu = await m.start(fixtureSpec([], { id: 'emb-cpu', kind: 'sim-embedding', model: 'BAAI/bge-m3' }));
    h.track(cpu.pid);
    expect(cpu.gpuIds).toEqual([]);
    const gpu = await m.start(fixtureSpec([], { id: 'emb-gpu', kind: 'sim-embedding', model: 'BAAI/bge-m3', useGpu: true, requiredMemoryGb: 20 }));
    h.track(gpu.pid);
    expect(gpu.gpuIds).toHaveLength(1);
    await waitFor(() => fs.readFileSync(gpu.logFile, 'utf8').includes('env_cuda'), 5000, 'the log line');
    expect(fs.readFileSync(gpu.logFile, 'utf8')).toContain(`"env_cuda":"${gpu.gpuIds[0]}"`);
    expect(fs.readFileSync(cpu.logFile, 'utf8')).toContain('"env_cuda":""');
    const llm = await m.start(fixtureSpec([], { id: 'llm-gpu', useGpu: true, requiredMemoryGb: 20 }));
    h.track(llm.pid);
    const err = await m.start(fixtureSpec([], { id: 'too-big', useGpu: true, requiredMemoryGb: 20 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GpuAllocationError);
    expect(err).toMatchObject({ status: 409, reason: 'insufficient_memory' });
    expect(m.ports.portsOf('too-big')).toEqual([]);
    await m.stop('emb-gpu');
    expect(gpus.allocation('emb-gpu')).toBeUndefined();
    const fits = await m.start(fixtureSpec([], { id: 'too-big', useGpu: true, requiredMemoryGb: 20 }));
    h.track(fits.pid);
    expect(fits.gpuIds).toEqual(gpu.gpuIds);
  });
});

describe('auto-restart with real processes', () => {
  it('kill -9 of the engine is healed: same id and port, a new pid, healthy again', async () => {
    const m = await h.manager();
    const a = await m.start(fixtureSpec([], { id: 'heal' }));
    h.track(a.pid);
    const sup = new EngineSupervisor(m, { intervalMs: 100, failureThreshold: 2, backoffBaseMs: 100, healthTimeoutMs: 1000 });
    const states: string[] = [];
    m.onStateChange((c) => c.id === 'heal' && states.push(c.to));
    sup.start();
    try {
      process.kill(a.pid as number, 'SIGKILL');
      await waitFor(() => states.includes(EngineState.RUNNING), 10_000, 'the restart');
      // The exit itself is heard: the engine is RESTARTING (never FAILED) until it runs again.
      expect(states).toEqual([EngineState.RESTARTING, EngineState.STARTING, EngineState.RUNNING]);
      const b = m.getEngine('heal');
      h.track(b?.pid);
      expect(b).toMatchObject({ id: 'heal', port: a.port, restarts: 1 });
      expect(b?.pid).not.toBe(a.pid);
      expect(await m.healthCheck('heal')).toBe(true);
      const messages = b?.events.map((e) => e.message) ?? [];
      expect(messages).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/exited \(signal SIGKILL\)/),
          expect.stringMatching(/restart attempt 1\/3 scheduled in 100 ms/),
          'restart attempt 1 succeeded',
        ]),
      );
    } finally {
      await sup.stop();
    }
  });

  it('an engine that crashes on every restart ends FAILED after 3 attempts, with the backoff in its event log', async () => {
    const m = await h.manager();
    const marker = path.join(m.sageHome, 'booted-once');
    const a = await m.start(fixtureSpec(['--crash-if-exists', marker], { id: 'crashy' }));
    h.track(a.pid);
    const sup = new EngineSupervisor(m, { intervalMs: 100, failureThreshold: 1, backoffBaseMs: 150, healthTimeoutMs: 1000 });
    sup.start();
    try {
      process.kill(a.pid as number, 'SIGKILL');
      await waitFor(() => sup.watchOf('crashy')?.gaveUp === true || (m.getEngine('crashy')?.events ?? []).some((e) => /giving up/.test(e.message)), 20_000, 'the supervisor to give up');
      const info = m.getEngine('crashy');
      expect(info?.state).toBe(EngineState.FAILED);
      const events = info?.events ?? [];
      const scheduled = events.filter((e) => /scheduled in/.test(e.message));
      expect(scheduled.map((e) => e.message)).toEqual([
        'restart attempt 1/3 scheduled in 150 ms (backoff)',
        'restart attempt 2/3 scheduled in 300 ms (backoff)',
        'restart attempt 3/3 scheduled in 600 ms (backoff)',
      ]);
      // the real gaps between restarts grow (direction only: the machine is shared)
      const restarts = events.filter((e) => /^restart #/.test(e.message)).map((e) => Date.parse(e.at));
      expect(restarts).toHaveLength(3);
      expect(restarts[2] - restarts[1]).toBeGreaterThanOrEqual(600);
      expect(restarts[1] - restarts[0]).toBeGreaterThanOrEqual(300);
      expect(events.filter((e) => /^restart attempt \d failed: .*process exited \(code 3\)/.test(e.message))).toHaveLength(3);
      expect(events[events.length - 1].message).toMatch(/giving up after 3 restart attempt/);
      expect(m.supervisedIds()).not.toContain('crashy');
      expect(info?.pid).toBeUndefined();
    } finally {
      await sup.stop();
    }
  });
});

describe('no orphans', () => {
  it('stopAll leaves no process alive and no port reserved', async () => {
    const m = await h.manager();
    const infos = await Promise.all([
      m.start(fixtureSpec([], { id: 's1' })),
      m.start(fixtureSpec([], { id: 's2', kind: 'sim-embedding' })),
      m.start(fixtureSpec(['--ignore-sigterm'], { id: 's3' })),
    ]);
    const pids = infos.map((i) => i.pid as number);
    pids.forEach((p) => h.track(p));
    expect(new Set(infos.map((i) => i.port)).size).toBe(3);
    expect(pids.every(isAlive)).toBe(true);
    process.kill(pids[0], 'SIGKILL'); // one dies under us: FAILED, still held until stopped
    await waitFor(() => m.getEngine('s1')?.state === EngineState.FAILED, 5000, 's1 to be seen dead');
    expect(await m.healthCheckAll(2000)).toEqual({ s1: false, s2: true, s3: true });
    expect(m.getEngine('s1')?.lastHealth).toMatchObject({ ok: false, detail: 'process is not running' });
    await m.stopAll({ graceMs: 300 });
    expect(pids.filter(isAlive)).toEqual([]);
    expect(portsHeldBy(m)).toEqual([]);
    expect(m.listEngines().every((e) => e.state === EngineState.STOPPED)).toBe(true);
    expect(readStateFile(m.stateFile).engines).toEqual([]);
  });
});
