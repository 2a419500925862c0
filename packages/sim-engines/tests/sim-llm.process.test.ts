// sim-llm as a real process, driven by the official openai SDK.
import OpenAI from 'openai';
import { ChatCompletionChunkSchema, ChatCompletionResponseSchema, CompletionChunkSchema, CompletionResponseSchema, ModelListSchema } from '@sage/common';
import { expectOpenAIError, post, startEngine, type EngineProcess } from './spawn-engine';

const MODEL = 'sim-7b';
let engine: EngineProcess;
let client: OpenAI;

// The SDK types have no vLLM extensions; requests and responses carry them as extra fields.
type KvParams = { kv_transfer_params?: Record<string, unknown> | null };

beforeAll(async () => {
  engine = await startEngine('sim-llm', ['--model', MODEL, '--time-scale', '0.2']);
  client = new OpenAI({ baseURL: `${engine.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(async () => {
  await engine?.stop();
});

describe('sim-llm process', () => {
  it('announces itself as a simulator on the listening line and in /v1/models', async () => {
    expect(engine.listening).toMatchObject({ event: 'listening', engine: 'sim-llm', simulator: true, model: MODEL, port: engine.port });
    const models = await client.models.list();
    expect(models.data).toHaveLength(1);
    expect(models.data[0]).toMatchObject({ id: MODEL, object: 'model', owned_by: 'sage-sim', sage_kind: 'llm', simulated: true, role: 'general' });
  });

  it('answers chat extractively from a system-message context', async () => {
    const r = await client.chat.completions.create({
      model: MODEL,
      messages: [
        { role: 'system', content: 'The Eiffel Tower is in Paris. The Colosseum is in Rome. Bananas are rich in potassium.' },
        { role: 'user', content: 'Where is the Colosseum?' },
      ],
    });
    expect(r.object).toBe('chat.completion');
    expect(r.choices[0]!.message.content).toBe('The Colosseum is in Rome.');
    expect(r.choices[0]!.finish_reason).toBe('stop');
    expect(r.usage!.completion_tokens).toBeGreaterThan(0);
    expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + r.usage!.completion_tokens);
  });

  it('streams chat: deltas joined equal the non-streamed answer for the same seed; usage chunk last', async () => {
    const body = { model: MODEL, messages: [{ role: 'user' as const, content: 'Write something.' }], max_tokens: 24, seed: 42 };
    const full = await client.chat.completions.create(body);
    const stream = await client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined | null;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        text += c.delta.content ?? '';
        if (c.finish_reason) finish = c.finish_reason;
      }
    }
    expect(text).toBe(full.choices[0]!.message.content);
    expect(finish).toBe('length');
    expect(full.usage!.completion_tokens).toBe(24);
    expect(usage).toEqual(full.usage);
    expect(chunks).toBeGreaterThan(10); // token by token, not one blob
  });

  it('honours n, stop and seed', async () => {
    const r = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Go on.' }], n: 3, max_tokens: 30, seed: 1 });
    expect(r.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(new Set(r.choices.map((c) => c.message.content)).size).toBe(3);
    expect(r.usage!.completion_tokens).toBe(90);
    const again = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Go on.' }], n: 3, max_tokens: 30, seed: 1 });
    expect(again.choices.map((c) => c.message.content)).toEqual(r.choices.map((c) => c.message.content));
    const stopped = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Go on.' }], max_tokens: 30, seed: 1, stop: ['.'] });
    expect(stopped.choices[0]!.finish_reason).toBe('stop');
    expect(stopped.choices[0]!.message.content).not.toContain('.');
    expect(r.choices[0]!.message.content!.startsWith(stopped.choices[0]!.message.content!)).toBe(true);
  });

  it('serves legacy completions, streamed and not, with exact usage', async () => {
    const full = await client.completions.create({ model: MODEL, prompt: 'Once upon a time', max_tokens: 12, seed: 5 });
    expect(full.object).toBe('text_completion');
    expect(full.usage!.completion_tokens).toBe(12);
    expect(full.choices[0]!.finish_reason).toBe('length');
    const stream = await client.completions.create({ model: MODEL, prompt: 'Once upon a time', max_tokens: 12, seed: 5, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(full.choices[0]!.text);
    expect(usage).toEqual(full.usage);
    const ctx = await client.completions.create({ model: MODEL, prompt: 'Context: Mercury is the closest planet to the Sun. Jupiter is the largest planet.\nQuestion: Which planet is the largest?\nAnswer:', max_tokens: 50 });
    expect(ctx.choices[0]!.text).toBe('Jupiter is the largest planet.');
    const multi = await client.completions.create({ model: MODEL, prompt: ['one', 'two'], max_tokens: 3, n: 2 });
    expect(multi.choices.map((c) => c.index)).toEqual([0, 1, 2, 3]);
  });

  it('plays prefill-only and remote-decode requests (kv_transfer_params) and counts them', async () => {
    const messages = [{ role: 'user' as const, content: 'A prompt whose KV cache moves to another engine. '.repeat(20) }];
    const prefill = (await client.chat.completions.create({ model: MODEL, messages, max_tokens: 1, kv_transfer_params: { do_remote_decode: true } } as OpenAI.ChatCompletionCreateParamsNonStreaming)) as OpenAI.ChatCompletion & KvParams;
    expect(prefill.usage!.completion_tokens).toBe(1);
    expect(prefill.kv_transfer_params).toMatchObject({ do_remote_prefill: true, remote_port: engine.port, remote_host: '127.0.0.1' });
    expect((prefill.kv_transfer_params!.remote_block_ids as number[]).length).toBe(Math.ceil(prefill.usage!.prompt_tokens / 16));
    const decode = (await client.chat.completions.create({ model: MODEL, messages, max_tokens: 8, kv_transfer_params: prefill.kv_transfer_params } as OpenAI.ChatCompletionCreateParamsNonStreaming)) as OpenAI.ChatCompletion & KvParams;
    expect(decode.usage!.completion_tokens).toBe(8);
    expect(decode.kv_transfer_params).toBeNull();
    const metrics = await (await fetch(`${engine.url}/metrics`)).text();
    expect(metrics).toMatch(/^sage_sim:kv_transfer_prefills_total\{model_name="sim-7b"\} 1$/m);
    expect(metrics).toMatch(/^sage_sim:kv_transfer_decodes_total\{model_name="sim-7b"\} 1$/m);
  });

  it('answers in the wire shapes of @sage/common (responses, SSE chunks, model list)', async () => {
    const sse = async (url: string, body: unknown) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const frames = (await res.text()).split('\n\n').filter((f) => f.length > 0);
      expect(frames.every((f) => f.startsWith('data: '))).toBe(true);
      expect(frames[frames.length - 1]).toBe('data: [DONE]');
      return frames.slice(0, -1).map((f) => JSON.parse(f.slice(6)) as unknown);
    };
    const chat = { model: MODEL, messages: [{ role: 'user', content: 'shape check' }], max_tokens: 5, n: 2 };
    ChatCompletionResponseSchema.parse((await post(`${engine.url}/v1/chat/completions`, chat)).body);
    const chatChunks = await sse(`${engine.url}/v1/chat/completions`, { ...chat, stream: true, stream_options: { include_usage: true } });
    for (const c of chatChunks) ChatCompletionChunkSchema.parse(c);
    expect(chatChunks[chatChunks.length - 1]).toMatchObject({ choices: [], usage: { completion_tokens: 10 } });
    const completion = { model: MODEL, prompt: 'shape check', max_tokens: 5 };
    CompletionResponseSchema.parse((await post(`${engine.url}/v1/completions`, completion)).body);
    for (const c of await sse(`${engine.url}/v1/completions`, { ...completion, stream: true })) CompletionChunkSchema.parse(c);
    ModelListSchema.parse(await (await fetch(`${engine.url}/v1/models`)).json());
  });

  it('exposes Prometheus metrics under vLLM names', async () => {
    const res = await fetch(`${engine.url}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    for (const name of ['vllm:num_requests_running', 'vllm:num_requests_waiting', 'vllm:gpu_cache_usage_perc', 'vllm:prompt_tokens_total', 'vllm:generation_tokens_total', 'vllm:time_to_first_token_seconds_bucket', 'vllm:e2e_request_latency_seconds_count']) {
      expect(text).toContain(name);
    }
    const generated = Number(/^vllm:generation_tokens_total\{model_name="sim-7b"\} (\d+)/m.exec(text)?.[1]);
    expect(generated).toBeGreaterThan(0);
  });

  it('rejects bad input with 400 in OpenAI shape and keeps serving', async () => {
    const url = `${engine.url}/v1/chat/completions`;
    const msgs = [{ role: 'user', content: 'hi' }];
    const cases: Array<[unknown, string?]> = [
      [{ messages: msgs }],
      [{ model: MODEL, messages: 'hi' }],
      [{ model: MODEL, messages: msgs, max_tokens: -5 }],
      [{ model: MODEL, messages: [] }],
      ['{"model": "sim-7b", "messages": ['],
      [''],
    ];
    for (const [body, type] of cases) {
      const r = await post(url, body, type);
      expectOpenAIError(r.body, 400, r.status);
    }
    // A body that is not JSON is refused as every sage server refuses it: 415.
    const notJson = await post(url, 'model=sim-7b', 'text/plain');
    expectOpenAIError(notJson.body, 415, notJson.status);
    expect((notJson.body as { error: { code: string } }).error.code).toBe('unsupported_media_type');
    const missing = await post(url, { messages: msgs });
    expect((missing.body as { error: { param: string } }).error.param).toBe('model');
    const unknown = await post(url, { model: 'gpt-4', messages: msgs });
    expectOpenAIError(unknown.body, 404, unknown.status);
    expect((unknown.body as { error: { code: string } }).error.code).toBe('model_not_found');
    const tooLong = await post(`${engine.url}/v1/completions`, { model: MODEL, prompt: 'x', max_tokens: 100_000 });
    expectOpenAIError(tooLong.body, 400, tooLong.status);
    const badIds = await post(`${engine.url}/v1/completions`, { model: MODEL, prompt: [1, 99_999_999] });
    expectOpenAIError(badIds.body, 400, badIds.status);
    expect((badIds.body as { error: { param: string } }).error.param).toBe('prompt');
    await expect(client.chat.completions.create({ model: MODEL, messages: 'nope' as unknown as OpenAI.ChatCompletionMessageParam[] })).rejects.toMatchObject({ status: 400 });
    const health = await fetch(`${engine.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', simulated: true });
  });

  it('stops gracefully on SIGTERM', async () => {
    const other = await startEngine('sim-llm', ['--model', 'x']);
    expect(await other.stop()).toBe(0);
  });
});
