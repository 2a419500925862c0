// What else two replicas share through a real Redis: session affinity (a session lands on the same instance
// whichever replica it reaches), circuit breakers (a circuit opened by one replica's failures is open on the
// other), backend removal, and a bad store address refused before anything starts.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { launchSimEngine, type LaunchedEngine } from '../../src/testing';
import { startControlPlaneServer } from '../../src';
import type { AffinityRouter } from '../../src/control-plane/routing';
import type { RequestMetadata } from '../../src/control-plane/types';
import { startHarness, type Harness, type JsonBody } from '../server/harness';
import { waitFor } from '../support/processes';
import { startRedisServer, type RedisServer } from '../support/redis-server';

jest.setTimeout(60_000);

let redis: RedisServer;
let engines: LaunchedEngine[] = [];
let a: Harness;
let b: Harness;

const post = async (url: string, body: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as JsonBody };
};

const chat = (h: Harness, model: string, session: string) =>
  post(`${h.baseURL}/chat/completions`, { model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }, { 'x-session-id': session });

beforeAll(async () => {
  redis = await startRedisServer();
  engines = await Promise.all([1, 2].map(() => launchSimEngine({ kind: 'sim-llm', model: 'aff-llm', timeScale: 0.02 })));
  [a, b] = await Promise.all([1, 2].map(() => startHarness({ preset: false, router: 'affinity', stateStore: redis.url })));
});

afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
  await Promise.allSettled(engines.map((e) => e.stop()));
  await redis?.stop();
});

test('a session lands on the same instance whichever replica it reaches', async () => {
  for (const [i, e] of engines.entries()) {
    expect((await post(`${a.cp.url}/v1/management/engines/register`, { baseUrl: e.baseUrl, models: ['aff-llm'], kind: 'llm', id: `aff-${i}` })).status).toBe(201);
  }
  await waitFor(() => b.cp.runtime.manager.getInstances().length, (n) => n === 2, 2000);
  for (let s = 0; s < 10; s++) {
    const first = await chat(a, 'aff-llm', `session-${s}`);
    expect(first.status).toBe(200);
    const stuck = first.headers.get('x-sage-instance');
    // The placement reaches B's router through the store's channel, before B has seen the session itself.
    const bRouter = b.cp.runtime.manager.router as AffinityRouter;
    const meta = { sessionId: `session-${s}` } as RequestMetadata;
    expect(await waitFor(() => bRouter.stickyInstance(meta), (id) => id === stuck, 1000)).toBe(stuck);
    expect((await chat(b, 'aff-llm', `session-${s}`)).headers.get('x-sage-instance')).toBe(stuck);
  }
});

test('a backend removed through one replica is gone from the other', async () => {
  const res = await fetch(`${b.cp.url}/v1/management/engines/aff-1`, { method: 'DELETE' });
  expect(res.status).toBe(200);
  const ids = await waitFor(() => a.cp.runtime.manager.getInstances().map((i) => i.id), (x) => !x.includes('aff-1'), 1000);
  expect(ids).toEqual(['aff-0']);
});

describe('circuit breakers', () => {
  let failing: Server;
  beforeAll(async () => {
    // An engine that answers its model list but fails every completion with a 500.
    failing = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url?.startsWith('/v1/models')) res.end(JSON.stringify({ object: 'list', data: [{ id: 'broken-llm', object: 'model' }] }));
      else {
        res.statusCode = 500;
        res.end(JSON.stringify({ error: { message: 'boom', type: 'server_error' } }));
      }
    });
    await new Promise<void>((r) => failing.listen(0, '127.0.0.1', () => r()));
  });
  afterAll(async () => {
    failing.closeAllConnections();
    await new Promise((r) => failing.close(r));
  });

  test("a circuit opened by one replica's failures is open on the other", async () => {
    const port = (failing.address() as AddressInfo).port;
    expect((await post(`${a.cp.url}/v1/management/engines/register`, { baseUrl: `http://127.0.0.1:${port}/v1`, models: ['broken-llm'], kind: 'llm', id: 'broken' })).status).toBe(201);
    await waitFor(() => b.cp.runtime.manager.getInstances().some((i) => i.id === 'broken'), Boolean, 1000);
    const circuitOf = (h: Harness) => h.cp.runtime.manager.getInstances().find((i) => i.id === 'broken')?.circuit;
    expect(circuitOf(b)).toBe('closed');
    // Three attempts (the default), all failing with a 500: the third opens A's circuit.
    expect((await chat(a, 'broken-llm', 'broken')).status).toBe(502);
    expect(circuitOf(a)).toBe('open');
    expect(await waitFor(() => circuitOf(b), (c) => c === 'open', 1000)).toBe('open');
  });
});

test('a state store address that is not redis://HOST:PORT[/DB] is refused before anything starts', async () => {
  await expect(startControlPlaneServer({ port: 0, preset: false, stateStore: 'http://127.0.0.1:6379' })).rejects.toThrow(/state store: unsupported scheme "http"/);
  await expect(startControlPlaneServer({ port: 0, preset: false, stateStore: 'redis://127.0.0.1:6379/x' })).rejects.toThrow(/database "x" is not a number/);
});
