// How the server answers when it cannot serve (F-304): an engine failure is a 502 naming the engine, a full
// queue is a 429 and an unmeetable deadline a 503, both with Retry-After; nothing hangs.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startHarness, getJson, type Harness, type JsonBody } from './harness';

/** A scripted OpenAI-compatible backend: `broken-model` always fails, `slow-model` answers after 1.5 s. */
function scriptedBackend(): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.url === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'broken-model', object: 'model' }, { id: 'slow-model', object: 'model' }] }));
        return;
      }
      if (req.url === '/health') {
        res.writeHead(200).end('ok');
        return;
      }
      hits++;
      const model = (JSON.parse(body || '{}') as { model?: string }).model;
      if (model === 'broken-model') {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'CUDA out of memory', type: 'server_error' } }));
        return;
      }
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'x', object: 'chat.completion', created: 0, model, choices: [{ index: 0, message: { role: 'assistant', content: 'slow answer' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } }));
      }, 1500);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}/v1`, hits: () => hits, close: () => new Promise((r) => server.close(() => r())) });
    }),
  );
}

let h: Harness;
let backend: Awaited<ReturnType<typeof scriptedBackend>>;

beforeAll(async () => {
  backend = await scriptedBackend();
  // A deadline-aware policy: one test here is about refusing a hopeless deadline (fifo never does).
  h = await startHarness({ preset: false, policy: 'slo_aware', runtime: { scheduler: { maxQueueSize: 2, maxAttempts: 1 } } });
  await h.cp.runtime.registerBackend({ baseUrl: backend.url, kind: 'llm', id: 'scripted', maxConcurrency: 1 });
});
afterAll(async () => {
  await h?.stop();
  await backend?.close();
});

const chat = (model: string, headers: Record<string, string> = {}) =>
  fetch(`${h.cp.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 }),
  });

it('answers 502 naming the engine when the engine fails', async () => {
  const res = await chat('broken-model');
  expect(res.status).toBe(502);
  const body = (await res.json()) as JsonBody;
  expect(body.error.message).toContain('scripted');
  expect(body.error.code).toBe('upstream_failed');
});

it('refuses at once with 429 and Retry-After when the queue is full', async () => {
  // One slot and a queue of two: the fourth concurrent request cannot be held.
  let settled = 0;
  const inFlight = [chat('slow-model'), chat('slow-model'), chat('slow-model')].map((p) => p.finally(() => settled++));
  // Wait until one request holds the slot and two wait in the queue (polling, not a fixed sleep).
  const end = Date.now() + 10_000;
  for (;;) {
    const m = (await getJson(`${h.cp.url}/v1/metrics`)) as { queueLength: number; running: number };
    if ((m.queueLength === 2 && m.running === 1) || Date.now() > end) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const refused = await chat('slow-model');
  expect(settled).toBe(0); // refused at once, while the first slow answer is still pending
  expect(refused.status).toBe(429);
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(((await refused.json()) as JsonBody).error.code).toBe('queue_full');
  const statuses = await Promise.all(inFlight.map(async (p) => (await p).status));
  expect(statuses).toEqual([200, 200, 200]);
});

it('refuses with 503 and Retry-After a deadline that cannot be met, without calling the engine', async () => {
  // Teach the instance its latency first, then ask for far less.
  await chat('slow-model');
  const before = backend.hits();
  const res = await chat('slow-model', { 'x-sage-slo-ms': '5' });
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBeTruthy();
  expect(((await res.json()) as JsonBody).error.code).toBe('deadline_infeasible');
  expect(backend.hits()).toBe(before);
  const health = await getJson(`${h.cp.url}/health`);
  expect(health.queueLength).toBe(0);
  // The refusal is counted: by its code, and as a missed deadline.
  const metrics = await getJson(`${h.cp.url}/v1/metrics`);
  expect(metrics.rejections.deadline_infeasible).toBeGreaterThanOrEqual(1);
  expect(metrics.slo.overall.missed).toBeGreaterThanOrEqual(1);
});

it('refuses a backend registered twice under two spellings of one base URL, and a base URL that is not a URL', async () => {
  const root = backend.url.replace(/\/v1$/, '/');
  const again = await h.cp.runtime.registerBackend({ baseUrl: root, kind: 'llm' }).catch((e: unknown) => e);
  expect(again).toMatchObject({ status: 409, code: 'already_registered' });
  const bad = await h.cp.runtime.registerBackend({ baseUrl: 'not a url', kind: 'llm' }).catch((e: unknown) => e);
  expect(bad).toMatchObject({ status: 400, code: 'invalid_base_url' });
});
