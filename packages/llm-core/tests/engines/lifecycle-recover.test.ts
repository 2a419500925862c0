// recover(): engines a previous control-plane run left behind are adopted or stopped, never leaked.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineState } from '../../src';
import {
  isAlive,
  probeEngineHealth,
  readStateFile,
  writeStateFile,
  type StoredEngine,
} from '../../src/engines/lifecycle';
import { FIXTURE, Harness, waitFor } from './lifecycle-helpers';

const h = new Harness();
const children: ChildProcess[] = [];
afterAll(async () => {
  await Promise.all(
    children.map(async (c) => {
      if (c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
    }),
  );
  const survivors = await h.cleanUp();
  expect(survivors).toEqual([]);
});

/** Starts a process the way an earlier control plane would have (detached, own group). */
function spawnLeftover(args: string[]): ChildProcess {
  const c = spawn(process.execPath, args, { detached: true, stdio: 'ignore' });
  children.push(c);
  h.track(c.pid);
  return c;
}

function record(id: string, pid: number, port: number, command: string[], home: string): StoredEngine {
  return {
    id,
    pid,
    port,
    host: '127.0.0.1',
    kind: 'sim-llm',
    category: 'llm',
    model: 'fixture-model',
    instanceType: 'GENERAL',
    command,
    env: { CUDA_VISIBLE_DEVICES: '' },
    gpuIds: [],
    useGpu: false,
    logFile: path.join(home, 'logs', 'engines', `${id}.log`),
    startedAt: new Date(Date.now() - 60_000).toISOString(),
    ownerPid: spawnSync(process.execPath, ['-e', '']).pid as number, // a control plane that is gone
  };
}

it('adopts the healthy, stops the unhealthy, prunes the dead, and leaves a reused pid alone', async () => {
  const ports = await h.ports();
  const [p1, p2] = [await ports.allocate('llm', 'probe'), await ports.allocate('llm', 'probe')];
  ports.releaseOwner('probe');

  const healthyCmd = [process.execPath, FIXTURE, '--port', String(p1), '--model', 'fixture-model'];
  const unhealthyCmd = [process.execPath, FIXTURE, '--port', String(p2), '--model', 'fixture-model', '--unhealthy'];
  const healthy = spawnLeftover(healthyCmd.slice(1));
  const unhealthy = spawnLeftover(unhealthyCmd.slice(1));
  const stranger = spawnLeftover(['-e', 'setInterval(() => {}, 1000)']); // its pid was "reused" by something else
  const deadPid = spawnSync(process.execPath, ['-e', '']).pid as number;
  await waitFor(async () => (await probeEngineHealth('127.0.0.1', p1, 'llm', 500)).ok, 10_000, 'the left-over engine');
  await waitFor(async () => (await probeEngineHealth('127.0.0.1', p2, 'llm', 500)).detail.includes('503'), 10_000, 'the unhealthy engine');

  const m = await h.manager({ ports });
  writeStateFile(m.stateFile, [
    record('old-healthy', healthy.pid as number, p1, healthyCmd, m.sageHome),
    record('old-unhealthy', unhealthy.pid as number, p2, unhealthyCmd, m.sageHome),
    record('old-dead', deadPid, p2 + 1, healthyCmd, m.sageHome),
    record('old-reused', stranger.pid as number, p2 + 2, [process.execPath, '/opt/engine.js', '--port', String(p2 + 2)], m.sageHome),
  ]);

  const report = await m.recover({ graceMs: 500 });
  expect(report.adopted).toEqual(['old-healthy']);
  expect(report.stopped).toEqual(['old-unhealthy']);
  expect(report.pruned.sort()).toEqual(['old-dead', 'old-reused']);
  expect(report.warnings.join('\n')).toMatch(/old-reused: pid \d+ now runs something else/);

  // the adopted engine is ours now: RUNNING, its port held, healthy, in the state file
  const adopted = m.getEngine('old-healthy');
  expect(adopted).toMatchObject({ state: EngineState.RUNNING, adopted: true, pid: healthy.pid, port: p1 });
  expect(adopted?.events.map((e) => e.type)).toEqual(['adopted']);
  expect(ports.holder(p1)).toBe('old-healthy');
  expect(await m.healthCheck('old-healthy')).toBe(true);
  expect(readStateFile(m.stateFile).engines.map((e) => e.id)).toEqual(['old-healthy']);
  await waitFor(() => !isAlive(unhealthy.pid as number), 5000, 'the unhealthy left-over to be stopped');
  expect(isAlive(stranger.pid as number)).toBe(true); // never signal a process that is not ours

  // an adopted engine restarts in place from its recorded command, and stops like any other
  const restarted = await m.restart('old-healthy');
  h.track(restarted.pid);
  expect(restarted).toMatchObject({ state: EngineState.RUNNING, port: p1 });
  expect(restarted.pid).not.toBe(healthy.pid);
  await waitFor(() => !isAlive(healthy.pid as number), 5000, 'the old process to go');
  await m.stop('old-healthy');
  expect(isAlive(restarted.pid as number)).toBe(false);
  expect(ports.reservations()).toEqual([]);
});

it('a corrupt state file is moved aside and reported, not trusted', async () => {
  const m = await h.manager();
  fs.mkdirSync(path.dirname(m.stateFile), { recursive: true });
  fs.writeFileSync(m.stateFile, '{ "engines": [ oops');
  const report = await m.recover();
  expect(report.warnings[0]).toMatch(/corrupt state file moved to/);
  expect(fs.readdirSync(path.dirname(m.stateFile)).some((f) => f.includes('.corrupt-'))).toBe(true);
  expect(readStateFile(m.stateFile).engines).toEqual([]);
});

it('an engine of another live control plane is left alone and kept in the state file', async () => {
  const ports = await h.ports();
  const p = await ports.allocate('llm', 'probe');
  ports.releaseOwner('probe');
  const otherCp = spawnLeftover(['-e', 'setInterval(() => {}, 1000)']);
  const engine = spawnLeftover([FIXTURE, '--port', String(p)]);
  const m = await h.manager({ ports });
  writeStateFile(m.stateFile, [{ ...record('theirs', engine.pid as number, p, [process.execPath, FIXTURE, '--port', String(p)], m.sageHome), ownerPid: otherCp.pid as number }]);
  const report = await m.recover();
  expect(report.skipped).toEqual(['theirs']);
  expect(m.getEngine('theirs')).toBeUndefined();
  expect(isAlive(engine.pid as number)).toBe(true);
  expect(readStateFile(m.stateFile).engines.map((e) => e.id)).toEqual(['theirs']);
});
