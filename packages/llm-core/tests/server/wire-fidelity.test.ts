// What the client sent is what the engine gets (issue 16): token-id prompts and inputs pass through untouched (ids
// past cl100k's range included), prompt lists are served whole, usage is the engine's, request ids join client,
// control plane and engine. Engines registered as with `--llm-backend` record what reached them; the built-in
// simulator answers the prompt lists. Clients: the official openai SDK, and fetch where headers are the point.
import OpenAI from 'openai';
import { startHarness, getJson, type Harness, type JsonBody } from './harness';
import { ENGINE_EMBEDDING_TOKENS, ENGINE_USAGE, recordingUpstream, type RecordingUpstream } from './recording-upstream';

let h: Harness;
let client: OpenAI;
let llm: RecordingUpstream;
let emb: RecordingUpstream;

beforeAll(async () => {
  llm = await recordingUpstream({ models: ['org/rec-llm'], kind: 'llm' });
  emb = await recordingUpstream({ models: ['org/rec-embed'], kind: 'embedding' });
  // The embedded default engines as well as the two backends (backends alone would leave them out).
  h = await startHarness({ preset: 'default', llmBackends: [llm.url], embeddingBackends: [emb.url] });
  client = new OpenAI({ baseURL: h.baseURL, apiKey: 'unused', maxRetries: 0, timeout: 20_000 });
});
afterAll(async () => {
  await h?.stop();
  await llm?.close();
  await emb?.close();
});

// Llama-3's <|begin_of_text|> and ids past cl100k's ~100k vocabulary: a re-encoding control plane loses them.
const LLAMA_IDS = [128000, 9906, 1917, 100277, 127999];

describe('token ids reach the engine untouched', () => {
  it('forwards a token-id prompt on /v1/completions exactly', async () => {
    const r = await client.completions.create({ model: 'org/rec-llm', prompt: LLAMA_IDS, max_tokens: 3 });
    expect(r.choices[0]!.text).toBe('one two three');
    expect(llm.last('/v1/completions')!.body.prompt).toEqual(LLAMA_IDS);
  });

  it('forwards several token-id prompts, and several text prompts, as sent', async () => {
    const ids = [[128000, 42], [100300], [5, 6, 7]];
    await client.completions.create({ model: 'org/rec-llm', prompt: ids, max_tokens: 3 });
    expect(llm.last('/v1/completions')!.body.prompt).toEqual(ids);
    await client.completions.create({ model: 'org/rec-llm', prompt: ['first', 'second'], max_tokens: 3 });
    expect(llm.last('/v1/completions')!.body.prompt).toEqual(['first', 'second']);
  });

  it('forwards token-id embedding inputs exactly, one array or several', async () => {
    const one = await client.embeddings.create({ model: 'org/rec-embed', input: LLAMA_IDS, encoding_format: 'float' });
    expect(one.data).toHaveLength(1);
    expect(emb.last('/v1/embeddings')!.body.input).toEqual([LLAMA_IDS]);
    const many = [[128000, 1], [100500, 2, 3]];
    const r = await client.embeddings.create({ model: 'org/rec-embed', input: many, encoding_format: 'float' });
    expect(r.data.map((d) => d.index)).toEqual([0, 1]);
    expect(emb.last('/v1/embeddings')!.body.input).toEqual(many);
  });

  it('refuses an empty token array with a 400 naming it', async () => {
    await expect(client.completions.create({ model: 'org/rec-llm', prompt: [[1, 2], []], max_tokens: 3 })).rejects.toMatchObject({ status: 400, param: 'prompt[1]' });
  });
});

describe('prompt lists on the built-in engine', () => {
  it('answers 3 prompts with 3 choices indexed 0-2, each for its own prompt', async () => {
    const prompts = ['Alpha', 'Bravo', 'Charlie'];
    const r = await client.completions.create({ model: 'sage-sim-llm', prompt: prompts, max_tokens: 4, echo: true });
    expect(r.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    r.choices.forEach((c, i) => expect(c.text.startsWith(prompts[i]!)).toBe(true));
  });

  it('numbers choices prompt_index * n + choice with n > 1', async () => {
    const prompts = ['Alpha', 'Bravo', 'Charlie'];
    const r = await client.completions.create({ model: 'sage-sim-llm', prompt: prompts, n: 2, max_tokens: 4, echo: true });
    const byIndex = [...r.choices].sort((a, b) => a.index - b.index);
    expect(byIndex.map((c) => c.index)).toEqual([0, 1, 2, 3, 4, 5]);
    byIndex.forEach((c) => expect(c.text.startsWith(prompts[Math.floor(c.index / 2)]!)).toBe(true));
  });
});

describe('usage is the engine’s', () => {
  it('passes the engine usage through on JSON answers', async () => {
    const r = await client.completions.create({ model: 'org/rec-llm', prompt: 'hi', max_tokens: 3 });
    expect(r.usage).toEqual(ENGINE_USAGE);
    const e = await client.embeddings.create({ model: 'org/rec-embed', input: 'hello there', encoding_format: 'float' });
    expect(e.usage.prompt_tokens).toBe(ENGINE_EMBEDDING_TOKENS);
  });

  it('always asks the engine for stream usage, and passes it on only when the client asked', async () => {
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const c of await client.chat.completions.create({ model: 'org/rec-llm', messages: [{ role: 'user', content: 'hi' }], stream: true })) chunks.push(c);
    expect((llm.last('/v1/chat/completions')!.body.stream_options as { include_usage?: boolean }).include_usage).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta.content).join('')).toBe('one two three');
    expect(chunks.every((c) => c.choices.length > 0 && !('usage' in c))).toBe(true);

    let usage: OpenAI.CompletionUsage | null | undefined;
    const stream = await client.chat.completions.create({ model: 'org/rec-llm', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
    for await (const c of stream) if (c.usage) usage = c.usage;
    expect(usage).toEqual(ENGINE_USAGE);
  });
});

describe('request ids', () => {
  it('echoes the client x-request-id and sends it to the engine; the control plane keeps its own', async () => {
    const { response } = await client.completions.create({ model: 'org/rec-llm', prompt: 'hi', max_tokens: 3 }, { headers: { 'x-request-id': 'abc-123' } }).withResponse();
    expect(response.headers.get('x-request-id')).toBe('abc-123');
    expect(response.headers.get('x-sage-request-id')).toMatch(/^req-/);
    expect(llm.last('/v1/completions')!.headers['x-request-id']).toBe('abc-123');
  });

  it('does the same for streams and embeddings', async () => {
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'org/rec-llm', messages: [{ role: 'user', content: 'hi' }], stream: true }, { headers: { 'x-request-id': 'stream-7' } })
      .withResponse();
    for await (const _ of stream) void _;
    expect(response.headers.get('x-request-id')).toBe('stream-7');
    expect(llm.last('/v1/chat/completions')!.headers['x-request-id']).toBe('stream-7');

    const e = await client.embeddings.create({ model: 'org/rec-embed', input: 'x', encoding_format: 'float' }, { headers: { 'x-request-id': 'emb-9' } }).withResponse();
    expect(e.response.headers.get('x-request-id')).toBe('emb-9');
    expect(emb.last('/v1/embeddings')!.headers['x-request-id']).toBe('emb-9');
  });

  it("uses the control plane's id for both when the client sends none", async () => {
    const { response } = await client.completions.create({ model: 'org/rec-llm', prompt: 'hi', max_tokens: 3 }).withResponse();
    const own = response.headers.get('x-sage-request-id');
    expect(own).toMatch(/^req-/);
    expect(response.headers.get('x-request-id')).toBe(own);
    expect(llm.last('/v1/completions')!.headers['x-request-id']).toBe(own);
  });

  it('carries both ids on error answers, and refuses an unusable x-request-id', async () => {
    const bad = await fetch(`${h.baseURL}/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'e-1' }, body: '{' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('x-request-id')).toBe('e-1');
    expect(bad.headers.get('x-sage-request-id')).toMatch(/^req-/);
    const long = await fetch(`${h.baseURL}/models`, { headers: { 'x-request-id': 'x'.repeat(300) } });
    expect(long.status).toBe(400);
    expect(((await long.json()) as JsonBody).error).toMatchObject({ param: 'x-request-id', code: 'invalid_request_id' });
  });
});

describe('GET /v1/models/{id}', () => {
  it('retrieves a model whose id contains a slash', async () => {
    const m = await client.models.retrieve('org/rec-llm');
    expect(m).toMatchObject({ id: 'org/rec-llm', object: 'model' });
    expect(await getJson(`${h.baseURL}/models/org/rec-embed`)).toMatchObject({ id: 'org/rec-embed', sage_kind: 'embedding' });
  });

  it('answers an unknown id with 404 model_not_found in the OpenAI shape', async () => {
    await expect(client.models.retrieve('no/such-model')).rejects.toMatchObject({ status: 404, code: 'model_not_found', param: 'model', type: 'invalid_request_error' });
  });
});
