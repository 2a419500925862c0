import {
  APIError,
  IntelligentEmbeddingClient,
  type ChatReply,
  IntelligentLLMClient,
  LLMError,
  RequestAbortedError,
} from '../src';
import { parseRetryAfter, withRetry } from '../src/http/retry';
import { chatCompletion, fakeOpenAI, json, startServer, useServers } from './helpers/servers';

const track = useServers();

const hi = [{ role: 'user' as const, content: 'hi' }];

describe('IntelligentLLMClient', () => {
  it('chats, sends options, and passes priority and deadline as headers and a body extension', async () => {
    const s = await track(fakeOpenAI({ name: 'engine' }));
    const client = new IntelligentLLMClient({ baseUrl: s.url, modelName: 'test-model' });
    const reply = await client.chat(hi, { maxTokens: 16, temperature: 0.2, topP: 0.9, stop: ['\n'], seed: 3, priority: 'high', sloDeadlineMs: 800 });
    expect(reply).toBe('reply from engine');
    const req = s.requests.find((r) => r.path === '/v1/chat/completions');
    expect(req?.body).toMatchObject({ model: 'test-model', messages: hi, max_tokens: 16, temperature: 0.2, top_p: 0.9, stop: ['\n'], seed: 3, sage: { priority: 'high', slo_deadline_ms: 800 } });
    expect(req?.headers['x-sage-priority']).toBe('high');
    expect(req?.headers['x-sage-slo-ms']).toBe('800');
    expect(await client.generate('a bare prompt')).toBe('reply from engine');
    expect((s.requests.at(-1)?.body as { messages: unknown }).messages).toEqual([{ role: 'user', content: 'a bare prompt' }]);
  });

  it('complete() returns the reply with its finish reason, usage and model', async () => {
    const s = await track(fakeOpenAI({ name: 'engine' }));
    const client = new IntelligentLLMClient({ baseUrl: s.url, modelName: 'test-model' });
    const reply = await client.complete(hi, { maxTokens: 4 });
    expect(reply).toEqual({ text: 'reply from engine', finishReason: 'stop', usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 }, model: 'test-model' });
  });

  it('rejects invalid messages before sending anything', async () => {
    const s = await track(fakeOpenAI());
    const client = new IntelligentLLMClient({ baseUrl: s.url, modelName: 'm' });
    await expect(client.chat([{ role: 'user' } as never])).rejects.toThrow(/messages\.0\.content/);
    await expect(client.chat([])).rejects.toThrow(LLMError);
    await expect(client.chat([])).rejects.toThrow(/'messages': messages must contain at least one message/);
    expect(s.requests).toHaveLength(0);
  });

  it('streams deltas in order and ends cleanly', async () => {
    const s = await track(fakeOpenAI({ name: 'the streaming engine' }));
    const client = new IntelligentLLMClient({ baseUrl: s.url, modelName: 'm' });
    const deltas: string[] = [];
    for await (const d of client.stream(hi)) deltas.push(d);
    expect(deltas).toEqual(['reply', ' from', ' the', ' streaming', ' engine']);
    expect((s.requests[0]?.body as { stream: boolean }).stream).toBe(true);
  });

  it('a stream returns the whole reply when it ends, with the usage the server sent when asked for it', async () => {
    const s = await track(fakeOpenAI({ name: 'the counting engine' }));
    const client = new IntelligentLLMClient({ baseUrl: s.url, modelName: 'm' });
    const drain = async (it: AsyncGenerator<string, ChatReply>) => {
      const deltas: string[] = [];
      for (let next = await it.next(); ; next = await it.next()) {
        if (next.done) return { deltas, reply: next.value };
        deltas.push(next.value);
      }
    };
    const asked = await drain(client.stream(hi, { includeUsage: true, maxTokens: 8 }));
    expect(asked.deltas).toEqual(['reply', ' from', ' the', ' counting', ' engine']);
    expect(asked.reply).toEqual({ text: 'reply from the counting engine', finishReason: 'stop', usage: { prompt_tokens: 7, completion_tokens: 5, total_tokens: 12 }, model: 'm' });
    expect(s.requests[0]?.body).toMatchObject({ stream: true, max_tokens: 8, stream_options: { include_usage: true } });

    // Not asked for: nothing extra on the wire and no usage, the rest of the reply all the same.
    const plain = await drain(client.stream(hi));
    expect(plain.reply).toEqual({ text: 'reply from the counting engine', finishReason: 'stop', usage: undefined, model: 'm' });
    expect(s.requests[1]?.body).not.toHaveProperty('stream_options');
  });

  it('retries a 429 after the Retry-After it was given', async () => {
    const s = await track(
      startServer((_req, res, n) => (n === 1 ? json(res, 429, { error: { message: 'slow down', type: 'rate_limit_error', param: null, code: 'rate_limited' } }, { 'retry-after': '1' }) : json(res, 200, chatCompletion('finally')))),
    );
    const client = new IntelligentLLMClient({ baseUrl: s.url, modelName: 'm' });
    const started = Date.now();
    expect(await client.chat(hi)).toBe('finally');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(s.requests).toHaveLength(2);
  });

  it('retries 5xx with backoff up to the bound, and never retries a 400', async () => {
    const flaky = await track(startServer((_req, res, n) => (n < 3 ? json(res, 503, { error: { message: 'busy', type: 'server_error', param: null, code: null } }) : json(res, 200, chatCompletion('ok')))));
    const client = new IntelligentLLMClient({ baseUrl: flaky.url, modelName: 'm', retry: { baseDelayMs: 20 } });
    expect(await client.chat(hi)).toBe('ok');
    expect(flaky.requests).toHaveLength(3);

    const down = await track(startServer((_req, res) => json(res, 500, { error: { message: 'boom', type: 'server_error', param: null, code: null } })));
    const err = await new IntelligentLLMClient({ baseUrl: down.url, modelName: 'm', retry: { baseDelayMs: 10, maxAttempts: 2 } }).chat(hi).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).status).toBe(500);
    expect(down.requests).toHaveLength(2);

    const bad = await track(startServer((_req, res) => json(res, 400, { error: { message: "'max_tokens' is invalid", type: 'invalid_request_error', param: 'max_tokens', code: 'invalid_value' } })));
    const e400 = await new IntelligentLLMClient({ baseUrl: bad.url, modelName: 'm' }).chat(hi).catch((e: unknown) => e);
    expect(e400).toBeInstanceOf(APIError);
    expect(e400).toMatchObject({ status: 400, code: 'invalid_value', retryable: false });
    expect((e400 as Error).message).toContain("'max_tokens' is invalid");
    expect(bad.requests).toHaveLength(1);
  });

  it('an abort cancels the call (and the server sees the connection close)', async () => {
    let closed = false;
    const ac = new AbortController();
    const s = await track(
      startServer((_req, res) => {
        res.on('close', () => (closed = true));
        setTimeout(() => !res.writableEnded && json(res, 200, chatCompletion('too late')), 10_000).unref();
        // The caller leaves once the server holds its request, however long getting here took.
        setTimeout(() => ac.abort(), 50);
      }),
    );
    const client = new IntelligentLLMClient({ baseUrl: s.url, modelName: 'm' });
    const started = Date.now();
    const err = await client.chat(hi, { signal: ac.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestAbortedError);
    expect(Date.now() - started).toBeLessThan(5_000); // not the server's 10 s answer
    for (let i = 0; i < 100 && !closed; i++) await new Promise((r) => setTimeout(r, 20));
    expect(closed).toBe(true);
    expect(s.requests).toHaveLength(1); // an abort is not retried
  });

  it('every call has a deadline', async () => {
    const s = await track(fakeOpenAI({ delayMs: 3_000 }));
    const client = new IntelligentLLMClient({ baseUrl: s.url, modelName: 'm', timeoutMs: 200 });
    const err = await client.chat(hi).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).code).toBe('timeout');
  });

  it('aborting a stream midway ends it with RequestAbortedError', async () => {
    const s = await track(
      startServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'first' }, finish_reason: null }] })}\n\n`);
        // then nothing: the caller gives up
      }),
    );
    const client = new IntelligentLLMClient({ baseUrl: s.url, modelName: 'm' });
    const ac = new AbortController();
    const seen: string[] = [];
    const err = await (async () => {
      for await (const d of client.stream(hi, { signal: ac.signal })) {
        seen.push(d);
        setTimeout(() => ac.abort(), 50);
      }
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['first']);
    expect(err).toBeInstanceOf(RequestAbortedError);
  });
});

describe('IntelligentEmbeddingClient', () => {
  it('splits large inputs into batches and reassembles them in order', async () => {
    const s = await track(fakeOpenAI({ embeddingOnly: true }));
    const client = new IntelligentEmbeddingClient({ baseUrl: s.url, modelName: 'bge', maxBatchSize: 3 });
    const texts = ['a', 'bb', 'ccc', 'dddd', 'eeeee', 'f', 'gg', 'hhh'];
    const vectors = await client.embed(texts);
    expect(vectors).toEqual(texts.map((t) => [t.length, t.charCodeAt(0)]));
    const sizes = s.requests.map((r) => (r.body as { input: string[] }).input.length).sort();
    expect(sizes).toEqual([2, 3, 3]);
    expect(s.requests.every((r) => (r.body as { encoding_format: string }).encoding_format === 'float')).toBe(true);
    expect(await client.embedOne('zz')).toEqual([2, 122]);
    expect(await client.embed([])).toEqual([]);
  });

  it('models() lists the endpoint\'s models with the metadata its server adds, sending the API key', async () => {
    const entry = { id: 'bge', object: 'model', owned_by: 'sage-control-plane', sage_kind: 'embedding', sage_engines: ['sim-embedding'] };
    const s = await track(fakeOpenAI({ embeddingOnly: true, models: [entry] }));
    const client = new IntelligentEmbeddingClient({ baseUrl: s.url, modelName: 'bge', apiKey: 'k-1' });
    expect(await client.models()).toEqual([entry]);
    expect(s.requests.find((r) => r.path === '/v1/models')?.headers.authorization).toBe('Bearer k-1');
  });

  it('models() refuses what is not an OpenAI model list, and reports the server\'s status', async () => {
    const s = await track(startServer((req, res) => (req.path === '/v1/models' ? json(res, 200, { models: ['x'] }) : json(res, 404, { error: { message: 'no', type: 'not_found' } }))));
    await expect(new IntelligentEmbeddingClient({ baseUrl: s.url, modelName: 'x' }).models()).rejects.toMatchObject({ code: 'invalid_response' });
    const missing = await track(startServer((_req, res) => json(res, 404, { error: { message: 'no route', type: 'not_found' } })));
    await expect(new IntelligentEmbeddingClient({ baseUrl: missing.url, modelName: 'x' }).models()).rejects.toMatchObject({ status: 404 });
  });
});

describe('retry policy', () => {
  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('2')).toBe(2);
    expect(parseRetryAfter(new Date(Date.now() + 3000).toUTCString())).toBeGreaterThan(1);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });

  it('does not retry when told to give up, and stops at the attempt bound', async () => {
    let calls = 0;
    const err = await withRetry(
      async () => {
        calls++;
        throw new APIError('refused', { code: 'connection_error', retryable: true });
      },
      { retry: { baseDelayMs: 1, maxAttempts: 4 } },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect(calls).toBe(4);
    calls = 0;
    await withRetry(
      async () => {
        calls++;
        throw new APIError('refused', { code: 'connection_error', retryable: true });
      },
      { retry: { baseDelayMs: 1 }, giveUpOn: () => true },
    ).catch(() => undefined);
    expect(calls).toBe(1);
  });
});
