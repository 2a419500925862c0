// The control plane driven only through the official openai SDK (issue 6, "must show").
import OpenAI from 'openai';
import { startHarness, getJson, type Harness } from './harness';

let h: Harness;
let client: OpenAI;

beforeAll(async () => {
  h = await startHarness();
  client = new OpenAI({ baseURL: h.baseURL, apiKey: 'unused', maxRetries: 0, timeout: 20_000 });
});
afterAll(async () => {
  await h?.stop();
});

describe('OpenAI API through the official SDK', () => {
  it('lists models with their kind and the engine serving them', async () => {
    const list = await client.models.list();
    const ids = list.data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['sage-sim-llm', 'sage-sim-embedding']));
    type Entry = { sage_kind: string; sage_instances: string[]; sage_engines: string[] };
    const emb = list.data.find((m) => m.id === 'sage-sim-embedding') as unknown as Entry;
    expect(emb.sage_kind).toBe('embedding');
    expect(emb.sage_instances.length).toBe(1);
    expect(emb.sage_engines).toEqual(['sim-embedding']);
    expect((list.data.find((m) => m.id === 'sage-sim-llm') as unknown as Entry).sage_engines).toEqual(['sim-llm']);
  });

  it('answers a chat completion with exact usage', async () => {
    const r = await client.chat.completions.create({
      model: 'sage-sim-llm',
      messages: [
        { role: 'system', content: 'Context: The Eiffel Tower is 330 metres tall. Paris is the capital of France.' },
        { role: 'user', content: 'How tall is the Eiffel Tower?' },
      ],
      max_tokens: 40,
    });
    expect(r.object).toBe('chat.completion');
    expect(r.choices[0]!.message.content).toContain('330 metres');
    expect(r.usage!.completion_tokens).toBeGreaterThan(0);
    expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + r.usage!.completion_tokens);
  });

  it('streams a chat completion chunk by chunk, ending with usage', async () => {
    const stream = await client.chat.completions.create({
      model: 'sage-sim-llm',
      messages: [{ role: 'user', content: 'Tell me something.' }],
      max_tokens: 24,
      seed: 7,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let chunks = 0;
    let usage: OpenAI.CompletionUsage | undefined | null;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      chunks++;
      if (chunk.choices[0]?.delta?.content) text += chunk.choices[0].delta.content;
      if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(chunks).toBeGreaterThan(5);
    expect(finish).toBe('length');
    expect(usage?.completion_tokens).toBe(24);
    const plain = await client.chat.completions.create({ model: 'sage-sim-llm', messages: [{ role: 'user', content: 'Tell me something.' }], max_tokens: 24, seed: 7 });
    expect(text).toBe(plain.choices[0]!.message.content);
  });

  it('answers a text completion', async () => {
    const r = await client.completions.create({ model: 'sage-sim-llm', prompt: 'Once upon a time', max_tokens: 12 });
    expect(r.object).toBe('text_completion');
    expect(r.choices[0]!.text.length).toBeGreaterThan(0);
    expect(r.usage!.completion_tokens).toBe(12);
  });

  it('embeds one string, an array, and base64 equal to floats', async () => {
    const one = await client.embeddings.create({ model: 'sage-sim-embedding', input: 'the cat sat on the mat' });
    expect(one.data).toHaveLength(1);
    const v = one.data[0]!.embedding;
    expect(Math.abs(Math.hypot(...v) - 1)).toBeLessThan(1e-5);

    const many = await client.embeddings.create({ model: 'sage-sim-embedding', input: ['alpha', 'beta', 'the cat sat on the mat'] });
    expect(many.data.map((d) => d.index)).toEqual([0, 1, 2]);
    expect(many.data[2]!.embedding).toEqual(v);

    // The SDK asks for base64 and decodes it itself when no encoding_format is given; ask explicitly to see the raw form.
    const raw = await client.embeddings.create({ model: 'sage-sim-embedding', input: 'the cat sat on the mat', encoding_format: 'base64' });
    const b64 = raw.data[0]!.embedding as unknown as string;
    expect(typeof b64).toBe('string');
    const buf = Buffer.from(b64, 'base64');
    const decoded = Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4));
    expect(decoded).toHaveLength(v.length);
    decoded.forEach((x, i) => expect(x).toBeCloseTo(v[i]!, 6));
  });

  it('reports an unknown model as 404 model_not_found', async () => {
    await expect(client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({
      status: 404,
      code: 'model_not_found',
    });
  });

  it('serves /, /health, /metrics and /v1/metrics', async () => {
    const root = await getJson(`${h.cp.url}/`);
    expect(root).toMatchObject({ name: 'sage', service: 'sage-control-plane' });
    const health = await getJson(`${h.cp.url}/health`);
    expect(health.status).toBe('ok');
    expect(health.engines.map((e: { state: string }) => e.state)).toEqual(['RUNNING', 'RUNNING']);
    const prom = await (await fetch(`${h.cp.url}/metrics`)).text();
    expect(prom).toMatch(/sage_http_requests_total\{route="\/v1\/chat\/completions",model="sage-sim-llm",status="200"\} \d+/);
    expect(prom).toMatch(/sage_engine_state\{engine="default-llm",model="sage-sim-llm",state="RUNNING"\} 1/);
    expect(prom).toContain('sage_queue_depth');
    const json = await getJson(`${h.cp.url}/v1/metrics`);
    expect(json.requests.completed).toBeGreaterThan(0);
    expect(json.latency.e2eMs.p99).toBeGreaterThan(0);
  });
});
