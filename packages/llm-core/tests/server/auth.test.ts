// API keys on the OpenAI API and a separate admin key on the management API (F-305); keys never logged.
import { Writable } from 'node:stream';
import OpenAI from 'openai';
import pino from 'pino';
import { startHarness, type Harness, type JsonBody } from './harness';

const API_KEY = 'sk-sage-test-4f1c9a7e';
const ADMIN_KEY = 'adm-sage-test-88b2d0c3';
const WRONG_KEY = 'sk-wrong-key-000111';

let h: Harness;
const logLines: string[] = [];

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logLines.push(String(chunk));
      cb();
    },
  });
  h = await startHarness({ auth: { apiKeys: [API_KEY, 'sk-other'], adminKey: ADMIN_KEY }, logger: pino({ level: 'trace' }, sink) });
});
afterAll(async () => {
  await h?.stop();
});

const chatBody = JSON.stringify({ model: 'sage-sim-llm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 });
const post = (path: string, headers: Record<string, string>, body = chatBody) =>
  fetch(`${h.cp.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

describe('API keys', () => {
  it('rejects a missing or wrong key with 401 in OpenAI shape and accepts the right one', async () => {
    const none = await post('/v1/chat/completions', {});
    expect(none.status).toBe(401);
    expect(((await none.json()) as JsonBody).error).toMatchObject({ type: 'authentication_error', code: 'invalid_api_key' });
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect((await post('/v1/chat/completions', { authorization: `Bearer ${WRONG_KEY}` })).status).toBe(401);
    expect((await post('/v1/chat/completions', { authorization: `Bearer ${API_KEY}` })).status).toBe(200);
    expect((await post('/v1/chat/completions', { 'x-api-key': API_KEY })).status).toBe(200);
  });

  it('works with the official SDK given the key, and fails without it', async () => {
    const good = new OpenAI({ baseURL: h.baseURL, apiKey: API_KEY, maxRetries: 0 });
    expect((await good.models.list()).data.length).toBeGreaterThan(0);
    const bad = new OpenAI({ baseURL: h.baseURL, apiKey: WRONG_KEY, maxRetries: 0 });
    await expect(bad.models.list()).rejects.toMatchObject({ status: 401 });
  });

  it('guards the management API with the admin key, not the API key', async () => {
    const get = (key?: string) => fetch(`${h.cp.url}/v1/management/status`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    expect((await get()).status).toBe(401);
    expect((await get(API_KEY)).status).toBe(401);
    // The dashboard's data endpoint is API data: it takes the API key, not nothing.
    expect((await fetch(`${h.cp.url}/v1/metrics`)).status).toBe(401);
    expect((await fetch(`${h.cp.url}/v1/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } })).status).toBe(200);
    const ok = await get(ADMIN_KEY);
    expect(ok.status).toBe(200);
    expect(JSON.stringify(await ok.json())).not.toContain(ADMIN_KEY);
  });

  it('leaves /health open for probes', async () => {
    expect((await fetch(`${h.cp.url}/health`)).status).toBe(200);
  });

  it('never writes a presented key into any log line', async () => {
    expect(logLines.length).toBeGreaterThan(5);
    const all = logLines.join('');
    for (const secret of [API_KEY, ADMIN_KEY, WRONG_KEY]) expect(all).not.toContain(secret);
  });
});
