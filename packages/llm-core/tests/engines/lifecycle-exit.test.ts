// Healing on the exit event, with real processes: the supervisor hears an engine's exit from the process itself
// (its child 'exit' event, or for an adopted engine a pid poll), not from a health round — here health rounds
// are a minute apart, so only the exit can explain a restart — and the engine is RESTARTING until it runs again.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { EngineState, type EngineLifecycleManager } from '../../src';
import { EngineSupervisor, isAlive, writeStateFile, probeEngineHealth } from '../../src/engines/lifecycle';
import { FIXTURE, fixtureSpec, Harness, waitFor } from './lifecycle-helpers';

const h = new Harness();
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  const survivors = await h.cleanUp();
  expect(survivors).toEqual([]);
});

const NO_ROUNDS = { intervalMs: 60_000, failureThreshold: 3, backoffBaseMs: 200, healthTimeoutMs: 1000 };

function stateLog(m: EngineLifecycleManager, id: string): string[] {
  const states: string[] = [];
  m.onStateChange((c) => c.id === id && states.push(c.to));
  return states;
}

it('a launched engine killed with SIGKILL is RESTARTING at once and RUNNING again on a new pid', async () => {
  const m = await h.manager();
  const a = await m.start(fixtureSpec([], { id: 'exit-heal' }));
  h.track(a.pid);
  const states = stateLog(m, 'exit-heal');
  const sup = new EngineSupervisor(m, NO_ROUNDS);
  sup.start();
  try {
    process.kill(a.pid as number, 'SIGKILL');
    await waitFor(() => states.length > 0, 5000, 'the exit to be heard');
    expect(m.getEngine('exit-heal')?.state).toBe(EngineState.RESTARTING);
    await waitFor(() => states.includes(EngineState.RUNNING), 10_000, 'the restart');
    expect(states).toEqual([EngineState.RESTARTING, EngineState.STARTING, EngineState.RUNNING]);
    const b = m.getEngine('exit-heal');
    h.track(b?.pid);
    expect(b).toMatchObject({ port: a.port, restarts: 1 });
    expect(b?.pid).not.toBe(a.pid);
    expect(await m.healthCheck('exit-heal')).toBe(true);
  } finally {
    await sup.stop();
  }
});

it('an adopted engine (not our child) that dies is found by its pid and restarted', async () => {
  const ports = await h.ports();
  const port = await ports.allocate('llm', 'probe');
  ports.releaseOwner('probe');
  const command = [process.execPath, FIXTURE, '--port', String(port), '--model', 'fixture-model'];
  const left = spawn(process.execPath, command.slice(1), { detached: true, stdio: 'ignore' });
  children.push(left);
  h.track(left.pid);
  await waitFor(async () => (await probeEngineHealth('127.0.0.1', port, 'llm', 500)).ok, 10_000, 'the left-over engine');
  const m = await h.manager({ ports, pidPollMs: 100 });
  writeStateFile(m.stateFile, [
    {
      id: 'adopted-exit',
      pid: left.pid as number,
      port,
      host: '127.0.0.1',
      kind: 'sim-llm',
      category: 'llm',
      model: 'fixture-model',
      instanceType: 'GENERAL',
      command,
      env: {},
      gpuIds: [],
      useGpu: false,
      logFile: path.join(m.sageHome, 'logs', 'engines', 'adopted-exit.log'),
      startedAt: new Date().toISOString(),
      ownerPid: spawnSync(process.execPath, ['-e', '']).pid as number, // a control plane that is gone
    },
  ]);
  expect((await m.recover({ graceMs: 500 })).adopted).toEqual(['adopted-exit']);
  const states = stateLog(m, 'adopted-exit');
  const sup = new EngineSupervisor(m, NO_ROUNDS);
  sup.start();
  try {
    process.kill(left.pid as number, 'SIGKILL');
    await waitFor(() => states.includes(EngineState.RUNNING), 10_000, 'the restart');
    expect(states).toEqual([EngineState.RESTARTING, EngineState.STARTING, EngineState.RUNNING]);
    const b = m.getEngine('adopted-exit');
    h.track(b?.pid);
    expect(b?.pid).not.toBe(left.pid);
    expect(isAlive(b?.pid as number)).toBe(true);
    expect(b?.events.some((e) => /adopted process \d+ is gone/.test(e.message))).toBe(true);
  } finally {
    await sup.stop();
  }
});
