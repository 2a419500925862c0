// Mid-stream failover through the HTTP server: the engine of a stream is killed (SIGKILL) or frozen (SIGSTOP)
// after some chunks, and the client, reading with the official openai SDK, still sees one stream that is the
// uninterrupted answer: same id and model, one finish reason, usage counting both legs. A stream that cannot
// move (no other instance, n > 1) ends as before, with one OpenAI-shaped error event.
import OpenAI from 'openai';
import { countTokens } from '@sage/common';
import type { LaunchedEngine } from '../../src/testing';
import { startEngine, stopAll } from '../control-plane/integration-helpers';
import { startHarness, type Harness } from './harness';

const MODEL = 'sim-fo';
const IDLE_MS = 1500;
let h: Harness;
let client: OpenAI;
const engines = new Map<string, LaunchedEngine>();

beforeAll(async () => {
  h = await startHarness({ preset: false, policy: 'fifo', runtime: { scheduler: { streamIdleTimeoutMs: IDLE_MS, healthProbeIntervalMs: 200 } } });
  client = new OpenAI({ baseURL: h.baseURL, apiKey: 'x', maxRetries: 0 });
});
afterAll(async () => {
  await h?.stop();
  await stopAll();
});

/** Two (or `count`) fresh engines serving `model`, registered with the control plane. */
async function engineSet(model: string, count: number): Promise<string[]> {
  const started = await Promise.all(Array.from({ length: count }, () => startEngine({ kind: 'sim-llm', model, timeScale: 0.25 })));
  const ids: string[] = [];
  for (const e of started) {
    const inst = await h.cp.runtime.registerBackend({ baseUrl: e.baseUrl, kind: 'llm', models: [model] });
    engines.set(inst.id, e);
    ids.push(inst.id);
  }
  return ids;
}

afterEach(async () => {
  for (const [id, e] of engines) {
    h.cp.runtime.manager.unregisterInstance(id);
    try {
      process.kill(e.pid, 'SIGCONT');
    } catch {
      // already gone
    }
    await e.stop(500);
  }
  engines.clear();
});

async function failovers(reason: string): Promise<number> {
  const text = await (await fetch(`${h.cp.url}/metrics`)).text();
  const m = new RegExp(`^sage_stream_failovers_total\\{reason="${reason}"\\} (\\d+)`, 'm').exec(text);
  return Number(m?.[1] ?? NaN);
}

describe('a stream whose engine dies mid-way', () => {
  it('chat: continues on the other instance; the client sees the uninterrupted answer, one id, usage of both legs', async () => {
    await engineSet(MODEL, 2);
    const body = { model: MODEL, messages: [{ role: 'user' as const, content: 'Tell me a long story about mountains.' }], max_tokens: 160, seed: 21 };
    const whole = await client.chat.completions.create(body);
    const before = await failovers('connection_lost');

    const { data: stream, response } = await client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } }).withResponse();
    const victim = engines.get(response.headers.get('x-sage-instance')!)!;
    let text = '';
    let contentChunks = 0;
    const ids = new Set<string>();
    const models = new Set<string>();
    const indexes = new Set<number>();
    const finishes: string[] = [];
    let roles = 0;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      ids.add(chunk.id);
      models.add(chunk.model);
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        indexes.add(c.index);
        if (c.delta.role) roles++;
        if (c.finish_reason) finishes.push(c.finish_reason);
        if (c.delta.content) {
          text += c.delta.content;
          if (++contentChunks === 25) process.kill(victim.pid, 'SIGKILL');
        }
      }
    }
    expect(contentChunks).toBeGreaterThan(25);
    expect(text).toBe(whole.choices[0]!.message.content); // no repeated or missing chunk
    expect([...ids]).toHaveLength(1);
    expect([...models]).toEqual([MODEL]);
    expect([...indexes]).toEqual([0]);
    expect(roles).toBe(1);
    expect(finishes).toEqual(['length']);
    expect(usage!.completion_tokens).toBe(160);
    // Both legs' prompts: the original, and the original plus the assistant text the second leg continued.
    expect(usage!.prompt_tokens).toBeGreaterThan(2 * whole.usage!.prompt_tokens);
    expect(usage!.total_tokens).toBe(usage!.prompt_tokens + usage!.completion_tokens);
    expect(await failovers('connection_lost')).toBe(before + 1);
  });

  it('completions: continues from the prompt followed by the text so far', async () => {
    await engineSet(MODEL, 2);
    const body = { model: MODEL, prompt: 'The history of bridges', max_tokens: 120, seed: 4 };
    const whole = await client.completions.create(body);
    const { data: stream, response } = await client.completions.create({ ...body, stream: true, stream_options: { include_usage: true } }).withResponse();
    const victim = engines.get(response.headers.get('x-sage-instance')!)!;
    let text = '';
    let n = 0;
    const ids = new Set<string>();
    const finishes: string[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      ids.add(chunk.id);
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        if (c.finish_reason) finishes.push(c.finish_reason);
        if (c.text) {
          text += c.text;
          if (++n === 20) process.kill(victim.pid, 'SIGKILL');
        }
      }
    }
    expect(text).toBe(whole.choices[0]!.text);
    expect(countTokens(text)).toBe(120);
    expect([...ids]).toHaveLength(1);
    expect(finishes).toEqual(['length']);
    expect(usage!.completion_tokens).toBe(120);
  });

  it('an engine that stops sending chunks (SIGSTOP) past the idle timeout is failed over too, and its waiting calls run elsewhere', async () => {
    await engineSet(MODEL, 2);
    const body = { model: MODEL, messages: [{ role: 'user' as const, content: 'Describe a quiet forest.' }], max_tokens: 120, seed: 8 };
    const whole = await client.chat.completions.create(body);
    const before = await failovers('idle_timeout');
    const { data: stream, response } = await client.chat.completions.create({ ...body, stream: true }).withResponse();
    const frozen = engines.get(response.headers.get('x-sage-instance')!)!;
    // Long non-streaming calls on both engines (the router spreads them): those on the frozen one must not wait for it.
    const calls = Array.from({ length: 6 }, (_, i) => client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: `long ${i}` }], max_tokens: 400, seed: i }));
    let text = '';
    let n = 0;
    for await (const chunk of stream) {
      const piece = chunk.choices[0]?.delta.content;
      if (!piece) continue;
      text += piece;
      if (++n === 10) process.kill(frozen.pid, 'SIGSTOP');
    }
    expect(text).toBe(whole.choices[0]!.message.content);
    expect(await failovers('idle_timeout')).toBe(before + 1);
    // Still frozen: every call completes anyway (a call left waiting on it would hang past the test's timeout).
    const answers = await Promise.all(calls);
    expect(answers.map((a) => a.usage?.completion_tokens)).toEqual([400, 400, 400, 400, 400, 400]);
    process.kill(frozen.pid, 'SIGCONT');
  });
});

/** Reads a raw SSE stream: its data payloads, [DONE] included. */
async function rawEvents(path: string, body: unknown, onData: (count: number) => void): Promise<string[]> {
  const res = await fetch(`${h.cp.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  const events: string[] = [];
  let buffer = '';
  const decoder = new TextDecoder();
  for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(part, { stream: true });
    let at: number;
    while ((at = buffer.indexOf('\n\n')) >= 0) {
      const line = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      if (line.startsWith('data: ')) {
        events.push(line.slice(6));
        onData(events.length);
      }
    }
  }
  return events;
}

describe('a stream that cannot move', () => {
  it('with no other instance, ends with one OpenAI-shaped error event', async () => {
    const [id] = await engineSet('sim-solo', 1);
    const victim = engines.get(id!)!;
    const events = await rawEvents('/v1/chat/completions', { model: 'sim-solo', messages: [{ role: 'user', content: 'go on' }], max_tokens: 150, seed: 1, stream: true }, (n) => {
      if (n === 10) process.kill(victim.pid, 'SIGKILL');
    });
    const errors = events.filter((e) => e.includes('"error"'));
    expect(errors).toHaveLength(1);
    expect(JSON.parse(errors[0]!)).toMatchObject({ error: { type: 'upstream_error', code: 'upstream_failed' } });
    expect(events.at(-2)).toBe(errors[0]);
    expect(events.at(-1)).toBe('[DONE]');
  });

  it('with n > 1, ends with one error event even though another instance serves the model', async () => {
    await engineSet(MODEL, 2);
    const res = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'two please' }], max_tokens: 150, n: 2, stream: true }).withResponse();
    const victim = engines.get(res.response.headers.get('x-sage-instance')!)!;
    let n = 0;
    const failure = await (async () => {
      for await (const chunk of res.data) {
        if (chunk.choices.some((c) => c.delta.content) && ++n === 10) process.kill(victim.pid, 'SIGKILL');
      }
    })().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect(String((failure as Error).message)).toMatch(/failed/);
  });
});
