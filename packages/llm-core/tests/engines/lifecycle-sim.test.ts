// The lifecycle manager with the built-in engines (the sage-engine bin of @sage/sim-engines; the Nx test target builds it first):
// the embedded default preset applied with real processes, healing after kill -9, rollback on failure.
import * as fs from 'node:fs';
import OpenAI from 'openai';
import { applyPreset, getBuiltinPreset } from '../../src/engines/presets';
import { defaultSimMainPath } from '../../src/engines/kinds';
import {
  EngineState,
  parsePreset,
  type EngineInfo,
  type EngineLifecycleManager,
  type EngineStartSpec,
} from '../../src';
import { EngineSupervisor, isAlive } from '../../src/engines/lifecycle';
import { Harness, waitFor, portsHeldBy } from './lifecycle-helpers';

const h = new Harness();
afterAll(async () => {
  const survivors = await h.cleanUp();
  expect(survivors).toEqual([]);
});

beforeAll(() => {
  if (!fs.existsSync(defaultSimMainPath())) {
    throw new Error(`${defaultSimMainPath()} is missing: build the package first (nx run llm-core:build, which the test target depends on)`);
  }
});

/** Fast simulators, quiet logs. */
const fast = (m: EngineLifecycleManager) => async (spec: EngineStartSpec): Promise<EngineInfo> => {
  const info = await m.start({ ...spec, timeScale: 0.01, extraArgs: [...(spec.extraArgs ?? []), '--log-level', 'warn'] });
  h.track(info.pid);
  return info;
};

async function models(info: EngineInfo): Promise<string[]> {
  const res = await fetch(`${info.baseUrl}/models`);
  const body = (await res.json()) as { data: { id: string }[] };
  return body.data.map((d) => d.id);
}

it('applies the embedded default preset, heals sim-llm after kill -9, and answers chat again on the same port', async () => {
  const m = await h.manager();
  const preset = getBuiltinPreset('default');
  if (!preset) throw new Error('no default preset');
  const result = await applyPreset(preset, { start: fast(m), stop: async (info) => void (await m.stop(info.id)) });
  expect(result.ok).toBe(true);
  const [llm, emb] = result.started.map((s) => s.result);
  expect(llm).toMatchObject({ id: 'default-llm', kind: 'sim-llm', state: EngineState.RUNNING, instanceType: 'GENERAL' });
  expect(emb).toMatchObject({ id: 'default-embedding', kind: 'sim-embedding', category: 'embedding', state: EngineState.RUNNING });
  expect(await models(llm)).toEqual(['sage-sim-llm']);
  expect(await models(emb)).toEqual(['sage-sim-embedding']);
  expect(await m.healthCheckAll()).toEqual({ 'default-llm': true, 'default-embedding': true });

  const sup = new EngineSupervisor(m, { intervalMs: 150, failureThreshold: 2, backoffBaseMs: 100, healthTimeoutMs: 1000 });
  sup.start();
  try {
    process.kill(llm.pid as number, 'SIGKILL');
    await waitFor(() => m.getEngine('default-llm')?.state !== EngineState.RUNNING || m.getEngine('default-llm')?.pid !== llm.pid, 5000, 'the crash to be noticed');
    await waitFor(() => m.getEngine('default-llm')?.state === EngineState.RUNNING && m.getEngine('default-llm')?.pid !== llm.pid, 15_000, 'the supervisor to restart sim-llm');
    const healed = m.getEngine('default-llm') as EngineInfo;
    h.track(healed.pid);
    expect(healed).toMatchObject({ id: 'default-llm', port: llm.port, restarts: 1 });
    expect(healed.pid).not.toBe(llm.pid);
    const client = new OpenAI({ baseURL: healed.baseUrl, apiKey: 'unused', maxRetries: 0, timeout: 10_000 });
    const chat = await client.chat.completions.create({ model: 'sage-sim-llm', messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 8 });
    expect(chat.choices[0].message.content?.length).toBeGreaterThan(0);
    expect(m.getEngine('default-embedding')?.restarts).toBe(0); // untouched
  } finally {
    await sup.stop();
  }

  const pids = m.listEngines().map((e) => e.pid as number);
  await m.stopAll();
  expect(pids.filter(isAlive)).toEqual([]);
  expect(portsHeldBy(m)).toEqual([]);
});

it('a preset whose second engine cannot start rolls the first back (real processes)', async () => {
  const m = await h.manager();
  const preset = parsePreset(`
version: 1
name: broken
engines:
  - { name: llm, kind: llm, engine: sim-llm, model: sage-sim-llm }
  - { name: embed, kind: embedding, engine: sim-embedding, model: sage-sim-embedding, extra_args: ["--dimensions", "-5"] }
`);
  const started: EngineInfo[] = [];
  const result = await applyPreset(preset, {
    start: async (spec) => {
      const info = await fast(m)(spec);
      started.push(info);
      return info;
    },
    stop: async (info) => void (await m.stop(info.id)),
  });
  expect(result.ok).toBe(false);
  expect(result.failed?.name).toBe('embed');
  expect(result.failed?.error).toMatch(/failed to start/);
  expect(result.rolledBack).toEqual(['llm']);
  expect(started).toHaveLength(1);
  expect(isAlive(started[0].pid as number)).toBe(false);
  expect(m.getEngine('broken-llm')?.state).toBe(EngineState.STOPPED);
  expect(m.getEngine('broken-embed')?.state).toBe(EngineState.FAILED);
  expect(portsHeldBy(m)).toEqual([]);
});
