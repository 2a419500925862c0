// Three replicas share one engine through a real redis-server. When Redis goes away each replica counts slots by
// itself; it then takes only ceil(maxConcurrency / replicas it last saw alive) of the engine, so the replicas
// together stay near maxConcurrency instead of sending three times it. Once Redis is back the full count returns.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startHarness, type Harness } from '../server/harness';
import { waitFor } from '../support/processes';
import { startRedisServer, type RedisServer } from '../support/redis-server';

jest.setTimeout(60_000);

const MODEL = 'share-llm';
const MAX = 6;
const REPLICAS = 3;

/** An OpenAI-compatible engine that holds every completion for `holdMs` and records the most it ran at once. */
function countingEngine(holdMs = 250) {
  let running = 0;
  let peak = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/health') return void res.end('{}');
      if (req.url === '/v1/models') return void res.end(JSON.stringify({ object: 'list', data: [{ id: MODEL, object: 'model' }] }));
      if (req.url !== '/v1/chat/completions') return void res.writeHead(404).end('{}'); // /metrics polls: not requests
      running += 1;
      peak = Math.max(peak, running);
      setTimeout(() => {
        running -= 1;
        res.end(JSON.stringify({ id: 'x', object: 'chat.completion', created: 0, model: MODEL, choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
      }, holdMs);
    });
  });
  return {
    listen: () => new Promise<string>((r) => server.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`))),
    /** The highest concurrency since the last call, which starts a new count. */
    takePeak: () => {
      const p = peak;
      peak = running;
      return p;
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

let redis: RedisServer;
const engine = countingEngine();
let replicas: Harness[] = [];

const chat = async (h: Harness): Promise<number> => {
  const res = await fetch(`${h.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
  });
  await res.arrayBuffer();
  return res.status;
};
const burst = (h: Harness, n: number) => Promise.all(Array.from({ length: n }, () => chat(h)));
const storeStates = () => replicas.map((h) => h.cp.runtime.shared.status().state);

beforeAll(async () => {
  redis = await startRedisServer();
  const baseUrl = await engine.listen();
  replicas = await Promise.all(Array.from({ length: REPLICAS }, () => startHarness({ preset: false, stateStore: redis.url })));
  const reg = await fetch(`${replicas[0]!.cp.url}/v1/management/engines/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ baseUrl, kind: 'llm', models: [MODEL], maxConcurrency: MAX, id: 'shared' }),
  });
  expect(reg.status).toBe(201);
  // Every replica knows the engine and has seen the other two alive.
  await waitFor(() => replicas.map((h) => h.cp.runtime.manager.getInstances().length), (n) => n.every((x) => x === 1), 5000);
  const seen = await waitFor(() => replicas.map((h) => h.cp.runtime.shared.status().replicasSeen), (s) => s.every((n) => n === REPLICAS), 5000);
  expect(seen).toEqual([REPLICAS, REPLICAS, REPLICAS]);
});

afterAll(async () => {
  await Promise.allSettled(replicas.map((h) => h.stop()));
  await engine.close();
  await redis?.stop();
});

test('with Redis up one replica alone may use every slot', async () => {
  engine.takePeak();
  expect(await burst(replicas[0]!, 2 * MAX)).toEqual(Array(2 * MAX).fill(200));
  expect(engine.takePeak()).toBe(MAX);
});

test('Redis down: each replica takes ceil(maxConcurrency / 3) slots, so all three together stay within maxConcurrency; every request completes', async () => {
  await redis.stop();
  expect(await waitFor(storeStates, (s) => s.every((x) => x === 'degraded'), 10_000)).toEqual(['degraded', 'degraded', 'degraded']);
  const share = Math.ceil(MAX / REPLICAS);

  engine.takePeak();
  expect(await burst(replicas[0]!, 4 * share)).toEqual(Array(4 * share).fill(200));
  expect(engine.takePeak()).toBe(share);

  const all = await Promise.all(replicas.map((h) => burst(h, 2 * MAX)));
  expect(all.flat()).toEqual(Array(REPLICAS * 2 * MAX).fill(200));
  const peak = engine.takePeak();
  expect(peak).toBeLessThanOrEqual(REPLICAS * share);
  expect(peak).toBeGreaterThan(share); // the replicas ran side by side, each within its share
});

test('Redis back: the share is lifted and one replica may use every slot again', async () => {
  await redis.start();
  expect(await waitFor(storeStates, (s) => s.every((x) => x === 'ok'), 15_000)).toEqual(['ok', 'ok', 'ok']);
  engine.takePeak();
  expect(await burst(replicas[1]!, 2 * MAX)).toEqual(Array(2 * MAX).fill(200));
  expect(engine.takePeak()).toBe(MAX);
});
