// Roles and disaggregated serving in-process (fastify inject): which engine accepts which half.
import http from 'node:http';
import { buildSimLlmApp, type SimLlmRole } from '../src';

const messages = [{ role: 'user', content: 'Split me between two engines, please.' }];

// fastify's inject() cannot load under jest (an ESM-only dependency), so these apps listen for real.
async function app(role: SimLlmRole) {
  const built = buildSimLlmApp({ model: 'm', role, engine: { timeScale: 0.01 }, advertise: () => ({ host: '10.0.0.7', port: 9000 }) });
  await built.app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(built.app.server.address() as { port: number }).port}`;
  const call = async (method: 'GET' | 'POST', url: string, payload?: unknown) => {
    const res = await fetch(base + url, { method, headers: payload ? { 'content-type': 'application/json' } : {}, body: payload ? JSON.stringify(payload) : undefined });
    const body = await res.text();
    return { statusCode: res.status, body, json: () => JSON.parse(body) as unknown };
  };
  return { app: built.app, inject: (o: { method: 'GET' | 'POST'; url: string; payload?: unknown }) => call(o.method, o.url, o.payload) };
}

describe('sim-llm roles', () => {
  it('reports its role in /v1/models and /health', async () => {
    for (const role of ['general', 'prefilling', 'decoding'] as const) {
      const a = await app(role);
      const models = (await a.inject({ method: 'GET', url: '/v1/models' })).json() as { data: Array<{ role: string }> };
      expect(models.data[0]!.role).toBe(role);
      expect((await a.inject({ method: 'GET', url: '/health' })).json()).toMatchObject({ role, simulated: true });
      await a.app.close();
    }
  });

  it('runs prefill on a PREFILLING engine and decode on a DECODING engine, refusing the wrong half', async () => {
    const p = await app('prefilling');
    const d = await app('decoding');
    try {
      const pre = await p.inject({ method: 'POST', url: '/v1/chat/completions', payload: { model: 'm', messages, max_tokens: 1, kv_transfer_params: { do_remote_decode: true } } });
      expect(pre.statusCode).toBe(200);
      const kv = (pre.json() as { kv_transfer_params: Record<string, unknown> }).kv_transfer_params;
      expect(kv).toMatchObject({ do_remote_prefill: true, remote_host: '10.0.0.7', remote_port: 9000 });

      const dec = await d.inject({ method: 'POST', url: '/v1/chat/completions', payload: { model: 'm', messages, max_tokens: 5, kv_transfer_params: kv } });
      expect(dec.statusCode).toBe(200);
      expect((dec.json() as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(5);

      const wrongOnDecode = await d.inject({ method: 'POST', url: '/v1/chat/completions', payload: { model: 'm', messages, max_tokens: 1, kv_transfer_params: { do_remote_decode: true } } });
      expect(wrongOnDecode.statusCode).toBe(400);
      expect(wrongOnDecode.json()).toMatchObject({ error: { param: 'kv_transfer_params' } });
      const wrongOnPrefill = await p.inject({ method: 'POST', url: '/v1/chat/completions', payload: { model: 'm', messages, max_tokens: 5, kv_transfer_params: kv } });
      expect(wrongOnPrefill.statusCode).toBe(400);

      const pm = (await p.inject({ method: 'GET', url: '/metrics' })).body;
      const dm = (await d.inject({ method: 'GET', url: '/metrics' })).body;
      expect(pm).toMatch(/^sage_sim:kv_transfer_prefills_total\{model_name="m"\} 1$/m);
      expect(dm).toMatch(/^sage_sim:kv_transfer_decodes_total\{model_name="m"\} 1$/m);
      expect(dm).toMatch(/^sage_sim:kv_transfer_prefills_total\{model_name="m"\} 0$/m);
    } finally {
      await p.app.close();
      await d.app.close();
    }
  });

  it('frees the engine when a streaming client goes away', async () => {
    const { app: a, engine } = buildSimLlmApp({ model: 'm', engine: { decodeBaseMs: 20 } });
    await a.listen({ port: 0, host: '127.0.0.1' });
    try {
      const port = (a.server.address() as { port: number }).port;
      // A raw socket that the test can cut mid-stream, as a client that goes away does.
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json' } });
      req.end(JSON.stringify({ model: 'm', messages, max_tokens: 5000, stream: true }));
      const res = await new Promise<http.IncomingMessage>((resolve) => req.once('response', resolve));
      await new Promise((resolve) => res.once('data', resolve)); // first bytes: the request is running
      expect(engine.stats().running).toBe(1);
      req.destroy();
      const deadline = Date.now() + 3000;
      while (engine.stats().running > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(engine.stats().running).toBe(0);
      expect(engine.stats().kvUsage).toBe(0);
    } finally {
      await a.close();
    }
  });
});
