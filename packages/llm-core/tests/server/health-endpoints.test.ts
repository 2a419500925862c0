// The three health answers, through HTTP, for orchestrators: /health/live (liveness: the process answers, no engine
// looked at), /health/ready (readiness: the preset's engines run and the state store was tried) and /health (the
// full picture: 503 once every engine is unhealthy). A control plane whose only engine went away stays live.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SAGE_CONTROL_PLANE_SERVICE } from '@sage/common';
import { waitFor } from '../support/processes';
import { startHarness, getJson, type Harness, type JsonBody } from './harness';

const API_KEY = 'health-test-key';

/** An OpenAI-compatible backend that answers until it is closed, after which its port refuses connections. */
function backend(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/health') return void res.end('{}');
      if (req.url === '/v1/models') return void res.end(JSON.stringify({ object: 'list', data: [{ id: 'probe-model', object: 'model' }] }));
      res.end(JSON.stringify({ id: 'x', object: 'chat.completion', created: 0, model: 'probe-model', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/v1`,
        close: () =>
          new Promise((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    }),
  );
}

const probe = async (url: string): Promise<{ status: number; body: JsonBody }> => {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
};

let h: Harness;
let engine: Awaited<ReturnType<typeof backend>>;

beforeAll(async () => {
  engine = await backend();
  // API keys on: the probes must stay open without one.
  h = await startHarness({ preset: false, auth: { apiKeys: [API_KEY] }, runtime: { scheduler: { maxAttempts: 1 } } });
  await h.cp.runtime.registerBackend({ baseUrl: engine.url, kind: 'llm', id: 'only-engine', maxConcurrency: 2 });
});
afterAll(async () => {
  await h?.stop();
  await engine?.close();
});

it('with a healthy engine all three answer 200, without an API key', async () => {
  const live = await probe(`${h.cp.url}/health/live`);
  expect(live.status).toBe(200);
  expect(live.body).toEqual({ live: true, service: SAGE_CONTROL_PLANE_SERVICE, version: expect.any(String), uptimeSec: expect.any(Number) });
  const ready = await probe(`${h.cp.url}/health/ready`);
  expect(ready).toMatchObject({ status: 200, body: { ready: true, waitingFor: [], state_store: 'local' } });
  const health = await probe(`${h.cp.url}/health`);
  expect(health).toMatchObject({ status: 200, body: { status: 'ok', ready: true } });
  expect(health.body.instances.map((i: JsonBody) => [i.id, i.health])).toEqual([['only-engine', 'healthy']]);
  const listed = await getJson(`${h.cp.url}/`);
  expect(listed.endpoints.service).toEqual(expect.arrayContaining(['GET /health', 'GET /health/live', 'GET /health/ready']));
});

it('when every engine is unhealthy /health answers 503 with its body, while /health/live stays 200 and the server still answers', async () => {
  await engine.close();
  // The failed request is what finds the engine down.
  const failed = await fetch(`${h.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify({ model: 'probe-model', messages: [{ role: 'user', content: 'anyone there?' }] }),
  });
  expect(failed.status).toBeGreaterThanOrEqual(500);
  await failed.arrayBuffer();

  const health = await waitFor(() => probe(`${h.cp.url}/health`), (r) => r.status === 503, 10_000);
  expect(health.status).toBe(503);
  expect(health.body).toMatchObject({ status: 'unhealthy', service: SAGE_CONTROL_PLANE_SERVICE });
  expect(health.body.instances.map((i: JsonBody) => [i.id, i.health])).toEqual([['only-engine', 'unhealthy']]);

  const live = await probe(`${h.cp.url}/health/live`);
  expect(live).toMatchObject({ status: 200, body: { live: true } });
  // Readiness is about the preset's engines and the state store (none here): unchanged by a backend going down.
  expect((await probe(`${h.cp.url}/health/ready`)).status).toBe(200);
  // Live means serving: the API still answers.
  const models = await fetch(`${h.baseURL}/models`, { headers: { authorization: `Bearer ${API_KEY}` } });
  expect(models.status).toBe(200);
  await models.arrayBuffer();
});
