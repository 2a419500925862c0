// sim-embedding as a real process, driven by the official openai SDK.
import OpenAI from 'openai';
import { cosineSimilarity, embeddingFromBase64 } from '../src/embedding/lexical-embedder';
import { EmbeddingResponseSchema, encodeTokens, ModelListSchema } from '@sage/common';
import { expectOpenAIError, post, startEngine, type EngineProcess } from './spawn-engine';

const MODEL = 'sim-embed';
let engine: EngineProcess;
let client: OpenAI;

const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

beforeAll(async () => {
  // A 25 ms batch overhead (model ms) makes the batching effect large compared with HTTP noise.
  engine = await startEngine('sim-embedding', ['--model', MODEL, '--batch-overhead-ms', '25', '--max-input-tokens', '64']);
  client = new OpenAI({ baseURL: `${engine.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(async () => {
  await engine?.stop();
});

describe('sim-embedding process', () => {
  it('says it is a simulator in /v1/models and describes itself TEI-style in /info', async () => {
    const models = await client.models.list();
    expect(models.data[0]).toMatchObject({ id: MODEL, object: 'model', owned_by: 'sage-sim', sage_kind: 'embedding', simulated: true });
    const info = (await (await fetch(`${engine.url}/info`)).json()) as Record<string, unknown>;
    expect(info).toMatchObject({ model_id: MODEL, max_client_batch_size: 32, max_input_length: 64, max_concurrent_requests: 512 });
  });

  it('returns identical unit vectors for identical texts, float and base64 agreeing', async () => {
    const float = await client.embeddings.create({ model: MODEL, input: ['hello world', 'hello world'], encoding_format: 'float' });
    expect(float.object).toBe('list');
    expect(float.data.map((d) => d.index)).toEqual([0, 1]);
    const [a, b] = float.data.map((d) => d.embedding);
    expect(a).toHaveLength(384);
    expect(a).toEqual(b);
    expect(norm(a!)).toBeCloseTo(1, 5);
    expect(float.usage.prompt_tokens).toBe(2 * encodeTokens('hello world').length);
    const b64 = await client.embeddings.create({ model: MODEL, input: 'hello world', encoding_format: 'base64' });
    expect(typeof b64.data[0]!.embedding).toBe('string');
    expect(Array.from(embeddingFromBase64(b64.data[0]!.embedding as unknown as string))).toEqual(a);
    // The SDK's default asks for base64 and decodes it itself.
    const dflt = await client.embeddings.create({ model: MODEL, input: 'hello world' });
    expect(dflt.data[0]!.embedding).toEqual(a);
  });

  it('ranks "the cat sat on the mat" closer to a paraphrase than to finance', async () => {
    const r = await client.embeddings.create({ model: MODEL, input: ['the cat sat on the mat', 'a cat is sitting on a mat', 'quarterly earnings rose'], encoding_format: 'float' });
    const [cat, para, money] = r.data.map((d) => d.embedding) as [number[], number[], number[]];
    expect(cosineSimilarity(cat, para)).toBeGreaterThan(cosineSimilarity(cat, money) + 0.2);
  });

  it('accepts token arrays and honours dimensions', async () => {
    const ids = encodeTokens('tokens in, vector out');
    const fromIds = await client.embeddings.create({ model: MODEL, input: [ids], encoding_format: 'float' });
    const fromText = await client.embeddings.create({ model: MODEL, input: 'tokens in, vector out', encoding_format: 'float' });
    expect(fromIds.data[0]!.embedding).toEqual(fromText.data[0]!.embedding);
    const small = await client.embeddings.create({ model: MODEL, input: 'short vector', dimensions: 64, encoding_format: 'float' });
    expect(small.data[0]!.embedding).toHaveLength(64);
    expect(norm(small.data[0]!.embedding)).toBeCloseTo(1, 5);
  });

  it('costs far less wall time for one batch of 32 than for 32 sequential single calls', async () => {
    const texts = Array.from({ length: 32 }, (_, i) => `document number ${i} about topic ${i % 5}`);
    await client.embeddings.create({ model: MODEL, input: texts[0]!, encoding_format: 'float' }); // warm up
    // The best of three batches: one stall of a loaded machine must not pass for the batch's cost.
    let batchMs = Infinity;
    let batch: Awaited<ReturnType<typeof client.embeddings.create>> | undefined;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      batch = await client.embeddings.create({ model: MODEL, input: texts, encoding_format: 'float' });
      batchMs = Math.min(batchMs, performance.now() - t0);
    }
    const t = performance.now();
    for (const text of texts) await client.embeddings.create({ model: MODEL, input: text, encoding_format: 'float' });
    const singleMs = performance.now() - t;
    expect(batch!.data).toHaveLength(32);
    expect(singleMs).toBeGreaterThan(batchMs * 4); // model: ~32 x 25 ms against ~40 ms
  });

  it('answers in the wire shapes of @sage/common', async () => {
    for (const encoding_format of ['float', 'base64']) {
      EmbeddingResponseSchema.parse((await post(`${engine.url}/v1/embeddings`, { model: MODEL, input: ['a', 'b'], encoding_format })).body);
    }
    ModelListSchema.parse(await (await fetch(`${engine.url}/v1/models`)).json());
  });

  it('exposes Prometheus metrics of its batches', async () => {
    const text = await (await fetch(`${engine.url}/metrics`)).text();
    expect(Number(/^sage_sim:embedding_inputs_total\{[^}]*\} (\d+)/m.exec(text)?.[1])).toBeGreaterThan(0);
    expect(Number(/^sage_sim:embedding_batches_total\{[^}]*\} (\d+)/m.exec(text)?.[1])).toBeGreaterThan(0);
    expect(text).toContain('sage_sim:embedding_request_latency_seconds_bucket');
  });

  it('rejects oversized batches and inputs with 413, truncates on request', async () => {
    const url = `${engine.url}/v1/embeddings`;
    const tooMany = await post(url, { model: MODEL, input: Array.from({ length: 33 }, () => 'x') });
    expectOpenAIError(tooMany.body, 413, tooMany.status);
    expect((tooMany.body as { error: { message: string } }).error.message).toMatch(/batch size 33 > maximum allowed batch size 32/);
    const long = 'word '.repeat(200);
    const tooLong = await post(url, { model: MODEL, input: long });
    expectOpenAIError(tooLong.body, 413, tooLong.status);
    const truncated = await post(url, { model: MODEL, input: long, truncate: true });
    expect(truncated.status).toBe(200);
    expect((truncated.body as { usage: { prompt_tokens: number } }).usage.prompt_tokens).toBe(64);
  });

  it('rejects bad input with 400 in OpenAI shape and keeps serving', async () => {
    const url = `${engine.url}/v1/embeddings`;
    for (const [body, type] of [
      [{ input: 'x' }],
      [{ model: MODEL, input: [] }],
      [{ model: MODEL, input: '' }],
      [{ model: MODEL, input: 42 }],
      [{ model: MODEL, input: 'x', encoding_format: 'int8' }],
      [{ model: MODEL, input: 'x', dimensions: 4096 }],
      [{ model: MODEL, input: [99_999_999] }],
      ['{not json'],
    ] as Array<[unknown, string?]>) {
      const r = await post(url, body, type);
      expectOpenAIError(r.body, 400, r.status);
    }
    // A body that is not JSON is refused as every sage server refuses it: 415.
    const notJson = await post(url, 'input=x', 'text/plain');
    expectOpenAIError(notJson.body, 415, notJson.status);
    expect((notJson.body as { error: { code: string } }).error.code).toBe('unsupported_media_type');
    const unknown = await post(url, { model: 'text-embedding-3-small', input: 'x' });
    expectOpenAIError(unknown.body, 404, unknown.status);
    expect((await fetch(`${engine.url}/health`)).status).toBe(200);
  });

  it('answers 429 beyond the concurrent-request limit', async () => {
    const busy = await startEngine('sim-embedding', ['--model', MODEL, '--max-concurrent', '2', '--batch-overhead-ms', '300', '--max-batch', '1']);
    try {
      const results = await Promise.all(Array.from({ length: 6 }, () => post(`${busy.url}/v1/embeddings`, { model: MODEL, input: 'load' })));
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
      const rejected = results.filter((r) => r.status === 429);
      expect(rejected.length).toBeGreaterThanOrEqual(1);
      expectOpenAIError(rejected[0]!.body, 429, rejected[0]!.status);
      expect(rejected[0]!.headers.get('retry-after')).toBe('1');
    } finally {
      await busy.stop();
    }
  });
});
