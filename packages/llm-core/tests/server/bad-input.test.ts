// Bad input never crashes the server and always gets an OpenAI-shaped error (issue 6, F-304).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ bodyLimit: 2 * 1024 * 1024 });
});
afterAll(async () => {
  await h?.stop();
});

interface Case {
  name: string;
  path: string;
  body: string;
  contentType?: string;
  status: number;
  param?: string | null;
  code?: string;
}

const chat = (o: Record<string, unknown>) => JSON.stringify({ model: 'sage-sim-llm', messages: [{ role: 'user', content: 'hi' }], ...o });
const cases: Case[] = [
  { name: 'non-JSON body', path: '/v1/chat/completions', body: '{"model": "sage-sim-llm", messages: nope', status: 400, code: 'invalid_json' },
  { name: 'empty body', path: '/v1/chat/completions', body: '', status: 400 },
  { name: 'JSON array body', path: '/v1/chat/completions', body: '[1,2]', status: 400 },
  { name: 'wrong content type', path: '/v1/chat/completions', body: chat({}), contentType: 'text/plain', status: 415 },
  { name: 'messages not an array', path: '/v1/chat/completions', body: JSON.stringify({ model: 'sage-sim-llm', messages: 'hello' }), status: 400, param: 'messages' },
  { name: 'missing model', path: '/v1/chat/completions', body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }), status: 400, param: 'model' },
  { name: 'missing messages', path: '/v1/chat/completions', body: JSON.stringify({ model: 'sage-sim-llm' }), status: 400, param: 'messages' },
  { name: 'bad role', path: '/v1/chat/completions', body: JSON.stringify({ model: 'sage-sim-llm', messages: [{ role: 'wizard', content: 'hi' }] }), status: 400, param: 'messages.0.role' },
  { name: 'negative max_tokens', path: '/v1/chat/completions', body: chat({ max_tokens: -5 }), status: 400, param: 'max_tokens' },
  { name: 'temperature out of range', path: '/v1/chat/completions', body: chat({ temperature: 9 }), status: 400, param: 'temperature' },
  { name: 'bad priority header value', path: '/v1/chat/completions', body: chat({ sage: { priority: 'urgent!!' } }), status: 400, param: 'sage.priority' },
  { name: 'unknown model', path: '/v1/chat/completions', body: chat({ model: 'gpt-9' }), status: 404, code: 'model_not_found' },
  { name: 'a 1 MB string in messages', path: '/v1/chat/completions', body: chat({ messages: [{ role: 'user', content: 'x'.repeat(1024 * 1024) }] }), status: 400, code: 'context_length_exceeded' },
  { name: 'oversized body', path: '/v1/chat/completions', body: chat({ messages: [{ role: 'user', content: 'y'.repeat(3 * 1024 * 1024) }] }), status: 413 },
  { name: 'stream on embeddings', path: '/v1/embeddings', body: JSON.stringify({ model: 'sage-sim-embedding', input: 'hi', stream: true }), status: 400, param: 'stream' },
  { name: 'empty embedding input', path: '/v1/embeddings', body: JSON.stringify({ model: 'sage-sim-embedding', input: [] }), status: 400, param: 'input' },
  { name: 'embedding input of wrong type', path: '/v1/embeddings', body: JSON.stringify({ model: 'sage-sim-embedding', input: { a: 1 } }), status: 400, param: 'input' },
  { name: 'completion without prompt', path: '/v1/completions', body: JSON.stringify({ model: 'sage-sim-llm' }), status: 400, param: 'prompt' },
  { name: 'unknown route', path: '/v1/nothing-here', body: '{}', status: 404 },
];

async function send(c: Case): Promise<{ status: number; body: { error?: { message: string; type: string; param: string | null; code: string | null } } }> {
  const res = await fetch(`${h.cp.url}${c.path}`, { method: 'POST', headers: { 'content-type': c.contentType ?? 'application/json' }, body: c.body });
  return { status: res.status, body: (await res.json()) as Awaited<ReturnType<typeof send>>['body'] };
}

function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

describe('bad input', () => {
  it.each(cases)('$name → $status in OpenAI error shape', async (c) => {
    const r = await send(c);
    expect(r.status).toBe(c.status);
    expect(Object.keys(r.body.error ?? {}).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(typeof r.body.error!.type).toBe('string');
    expect(r.body.error!.message.length).toBeGreaterThan(5);
    if (c.param !== undefined) expect(r.body.error!.param).toBe(c.param);
    if (c.code !== undefined) expect(r.body.error!.code).toBe(c.code);
  });

  it('survives 1,000 bad requests: still healthy, memory back near where it started', async () => {
    const small = cases.filter((c) => c.body.length < 100_000);
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 1000; i += 20) {
      const batch = Array.from({ length: 20 }, (_, j) => send(small[(i + j) % small.length]!));
      for (const r of await Promise.all(batch)) expect(r.status).toBeGreaterThanOrEqual(400);
    }
    // A few big ones too.
    await send(cases.find((c) => c.name === 'a 1 MB string in messages')!);
    await send(cases.find((c) => c.name === 'oversized body')!);
    gc();
    const after = process.memoryUsage().heapUsed;
    const health = await fetch(`${h.cp.url}/health`);
    expect(health.status).toBe(200);
    // The test process hosts the server: its heap after GC stays within 30 MB of where it began.
    expect(after - before).toBeLessThan(30 * 1024 * 1024);
    const ok = await fetch(`${h.cp.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chat({ max_tokens: 3 }) });
    expect(ok.status).toBe(200);
  });
});
