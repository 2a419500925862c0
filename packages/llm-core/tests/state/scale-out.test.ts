// Two control-plane replicas (real processes) in front of one sim-llm engine, sharing state through a real
// redis-server: the engine's maxConcurrency holds across both, a registration through one serves through the
// other, a SIGKILLed replica's slots come back within the lease TTL, and an outage of Redis leaves both serving
// on local state until it is back.
import OpenAI from 'openai';
import { launchSimEngine, type LaunchedEngine } from '../../src/testing';
import { parseEngineMetrics } from '../../src/control-plane/manager';
import { startRedisServer, type RedisServer } from '../support/redis-server';
import { waitFor } from '../support/processes';
import { startReplica, type Replica } from './replicas';

jest.setTimeout(120_000);

const MODEL = 'shared-llm';
const MAX = 4;

let redis: RedisServer;
let engine: LaunchedEngine;
let a: Replica | undefined;
let b: Replica | undefined;

interface Health {
  state_store: string;
  instances: Array<{ id: string; load: { activeRequests: number } }>;
}

async function json<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as T };
}

const health = (r: Replica) => json<Health>(`${r.url}/health`).then((x) => x.body);

async function models(r: Replica): Promise<string[]> {
  const { body } = await json<{ data: Array<{ id: string }> }>(`${r.url}/v1/models`);
  return body.data.map((m) => m.id);
}

async function running(): Promise<number> {
  const text = await (await fetch(`${engine.baseUrl.replace(/\/v1$/, '')}/metrics`)).text();
  return parseEngineMetrics(text).running ?? 0;
}

/** Samples the engine's running requests every 100 ms until stopped; returns the highest seen. */
function sampleRunning(): { stop(): Promise<number>; readonly max: number } {
  let max = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      max = Math.max(max, await running().catch(() => 0));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    get max() {
      return max;
    },
    async stop() {
      stopped = true;
      await loop;
      return max;
    },
  };
}

async function stream(r: Replica, maxTokens = 24, onFirstChunk?: () => void): Promise<string> {
  const client = new OpenAI({ baseURL: `${r.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 90_000 });
  const s = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Tell me about shared state.' }], max_tokens: maxTokens, stream: true });
  let text = '';
  let first = true;
  for await (const chunk of s) {
    if (first) onFirstChunk?.();
    first = false;
    text += chunk.choices[0]?.delta?.content ?? '';
  }
  return text;
}

async function register(r: Replica, baseUrl: string, model: string, id?: string) {
  return json<{ id: string; error?: unknown }>(`${r.url}/v1/management/engines/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ baseUrl, kind: 'llm', models: [model], maxConcurrency: MAX, id }),
  });
}

beforeAll(async () => {
  redis = await startRedisServer();
  engine = await launchSimEngine({ kind: 'sim-llm', model: MODEL, timeScale: 1 });
  [a, b] = await Promise.all([startReplica(redis.url), startReplica(redis.url)]);
});

afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
  await engine?.stop();
  await redis?.stop();
});

test('a backend registered through replica A is served by replica B within 1 s', async () => {
  const r = await register(a!, engine.baseUrl, MODEL, 'shared-engine');
  expect(r.status).toBe(201);
  const t0 = Date.now();
  const seen = await waitFor(() => models(b!), (m) => m.includes(MODEL), 1000);
  expect(seen).toContain(MODEL);
  expect(Date.now() - t0).toBeLessThan(1000);
  const bHealth = await health(b!);
  expect(bHealth.state_store).toBe('ok');
  expect(bHealth.instances.map((i) => i.id)).toContain('shared-engine');
});

test('24 streams to each replica: the engine never runs more than its maxConcurrency, and all 48 complete', async () => {
  const sampler = sampleRunning();
  const results = await Promise.allSettled([...Array.from({ length: 24 }, () => stream(a!)), ...Array.from({ length: 24 }, () => stream(b!))]);
  const peak = await sampler.stop();
  const failed = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
  expect(failed).toEqual([]);
  expect(results.filter((r) => r.status === 'fulfilled' && r.value.length > 0)).toHaveLength(48);
  expect(peak).toBeLessThanOrEqual(MAX);
  expect(peak).toBe(MAX); // the slots were used, not just respected
});

test('Redis stopped: both replicas serve on local state (degraded); Redis back: shared again without a restart', async () => {
  await redis.stop();
  const degraded = await waitFor(() => Promise.all([health(a!), health(b!)]), (hs) => hs.every((h) => h.state_store === 'degraded'), 10_000);
  expect(degraded.map((h) => h.state_store)).toEqual(['degraded', 'degraded']);
  const during = await Promise.allSettled([stream(a!, 8), stream(a!, 8), stream(b!, 8), stream(b!, 8)]);
  expect(during.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);

  await redis.start(); // empty: nothing survived the outage
  const back = await waitFor(() => Promise.all([health(a!), health(b!)]), (hs) => hs.every((h) => h.state_store === 'ok'), 15_000);
  expect(back.map((h) => h.state_store)).toEqual(['ok', 'ok']);

  // Shared again: a registration through B reaches A, and the slots hold across both.
  const other = await launchSimEngine({ kind: 'sim-llm', model: 'after-outage', timeScale: 0.05 });
  try {
    expect((await register(b!, other.baseUrl, 'after-outage')).status).toBe(201);
    expect(await waitFor(() => models(a!), (m) => m.includes('after-outage'), 1000)).toContain('after-outage');
  } finally {
    await other.stop();
  }
  const sampler = sampleRunning();
  const results = await Promise.allSettled([...Array.from({ length: 8 }, () => stream(a!)), ...Array.from({ length: 8 }, () => stream(b!))]);
  const peak = await sampler.stop();
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(16);
  expect(peak).toBeLessThanOrEqual(MAX);
});

test('replica A killed with SIGKILL while holding slots: replica B uses all of them again within 5 s', async () => {
  // A takes every slot with long streams; B's requests wait behind them.
  const held = Array.from({ length: MAX }, () => stream(a!, 400).catch(() => 'lost with A'));
  const seenByB = await waitFor(() => health(b!), (h) => h.instances.find((i) => i.id === 'shared-engine')?.load.activeRequests === MAX, 10_000);
  expect(seenByB.instances.find((i) => i.id === 'shared-engine')?.load.activeRequests).toBe(MAX);
  const startedAt: number[] = [];
  const waiting = Array.from({ length: MAX }, () => stream(b!, 24, () => startedAt.push(Date.now())));
  await new Promise((r) => setTimeout(r, 300)); // B's requests are queued behind A's slots
  expect(startedAt).toEqual([]);

  const sampler = sampleRunning();
  const killedAt = Date.now();
  await a!.kill();
  a = undefined;
  // B gets every slot back once A's leases expire: all its waiting streams start.
  await waitFor(() => startedAt.length, (n) => n === MAX, 10_000);
  expect(startedAt).toHaveLength(MAX);
  const recoveredMs = Math.max(...startedAt) - killedAt;
  expect(recoveredMs).toBeLessThan(5000);
  const done = await Promise.allSettled(waiting);
  expect(done.map((r) => r.status)).toEqual(Array(MAX).fill('fulfilled'));
  expect(await sampler.stop()).toBeLessThanOrEqual(MAX);
  await Promise.allSettled(held);
});
