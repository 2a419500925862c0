// Per-class queue-wait budgets from the settings, end to end over HTTP: with a tight LOW budget a LOW request
// that would wait is refused 429 queue_full with Retry-After, while a HIGH one (served first) is admitted.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startHarness, getJson, type Harness, type JsonBody } from './harness';

/** An OpenAI-compatible backend of model `m`: answers after 100 ms, except "block", held until release(). */
function gatedBackend(): Promise<{ url: string; release: () => void; close: () => Promise<void> }> {
  const held: Array<() => void> = [];
  let open = false;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.url === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: 'm', object: 'model' }] }));
        return;
      }
      if (req.url === '/health') {
        res.writeHead(200).end('ok');
        return;
      }
      const parsed = JSON.parse(body || '{}') as { messages?: Array<{ content: string }> };
      const answer = () =>
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ id: 'x', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
      if (parsed.messages?.at(-1)?.content === 'block' && !open) held.push(answer);
      else setTimeout(answer, 100);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/v1`,
        release: () => {
          open = true;
          held.splice(0).forEach((a) => a());
        },
        close: () => new Promise((r) => server.close(() => r())),
      });
    }),
  );
}

let h: Harness;
let backend: Awaited<ReturnType<typeof gatedBackend>>;

beforeAll(async () => {
  backend = await gatedBackend();
  // LOW may wait 1 ms, every other class keeps the default 2,000 ms.
  h = await startHarness({ preset: false, policy: 'priority', settings: { queueWaitBudgetMs: { LOW: 1 } } });
  await h.cp.runtime.registerBackend({ baseUrl: backend.url, kind: 'llm', id: 'gated', maxConcurrency: 1 });
});
afterAll(async () => {
  backend?.release();
  await h?.stop();
  await backend?.close();
});

const chat = (content: string, headers: Record<string, string> = {}) =>
  fetch(`${h.cp.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content }], max_tokens: 4 }),
  });

async function untilMetrics(ok: (m: { queueLength: number; running: number }) => boolean): Promise<void> {
  const end = Date.now() + 10_000;
  while (!ok((await getJson(`${h.cp.url}/v1/metrics`)) as { queueLength: number; running: number })) {
    if (Date.now() > end) throw new Error('metrics never reached the expected state');
    await new Promise((r) => setTimeout(r, 20));
  }
}

it('refuses a LOW request over its class budget with 429 queue_full and Retry-After, and admits a HIGH one', async () => {
  expect(h.cp.settings.queueWaitBudgetMs).toEqual({ LOW: 1 });
  expect((await chat('warm')).status).toBe(200); // a measured service time: the drain rate is known from here on
  const blocker = chat('block');
  await untilMetrics((m) => m.running === 1);
  const queued = chat('normal');
  await untilMetrics((m) => m.queueLength === 1);

  const low = await chat('low', { 'x-sage-priority': 'low' });
  expect(low.status).toBe(429);
  expect(Number(low.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  const body = (await low.json()) as JsonBody;
  expect(body.error.code).toBe('queue_full');
  expect(body.error.message).toMatch(/LOW budget of 1 ms/);

  const high = chat('high', { 'x-sage-priority': 'high' });
  await untilMetrics((m) => m.queueLength === 2);
  backend.release();
  expect(await Promise.all([blocker, queued, high].map(async (p) => (await p).status))).toEqual([200, 200, 200]);
  const admission = (await getJson(`${h.cp.url}/v1/metrics`)).admission as JsonBody;
  expect(admission.waitBudgetMs).toMatchObject({ LOW: 1, HIGH: 2000, NORMAL: 2000 });
});
