// The engine model as seen from outside: TTFT and throughput of the real process, measured with the
// openai SDK. The machine is shared and loaded, so the assertions are about direction with wide margins.
import OpenAI from 'openai';
import { randomUUID } from 'node:crypto';
import { startEngine, type EngineProcess } from './spawn-engine';

const MODEL = 'sim-timing';

/** Wall ms until the first content token of a streamed chat. */
async function ttftMs(client: OpenAI, content: string, maxTokens = 2): Promise<number> {
  const t0 = performance.now();
  const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content }], max_tokens: maxTokens, stream: true });
  let first = NaN;
  for await (const chunk of stream) {
    if (Number.isNaN(first) && chunk.choices[0]?.delta.content) first = performance.now() - t0;
  }
  return first;
}

/** A prompt of about `words` tokens, unique unless `prefix` is shared. */
function prompt(words: number, tag = randomUUID()): string {
  return `${tag} ` + Array.from({ length: words }, (_, i) => `w${i % 97}`).join(' ');
}

describe('sim-llm timing (queueing and prefix caching)', () => {
  let engine: EngineProcess;
  let client: OpenAI;
  beforeAll(async () => {
    // Prefill 1000 tokens/s and 256 tokens per step in model time, run 4x faster than real time.
    engine = await startEngine('sim-llm', ['--model', MODEL, '--prefill-tokens-per-second', '1000', '--max-batched-tokens', '256', '--decode-base-ms', '10', '--decode-per-seq-ms', '1', '--time-scale', '0.25']);
    client = new OpenAI({ baseURL: `${engine.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    await ttftMs(client, prompt(10)); // warm up: tokenizer load, first connection
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it('TTFT grows when many requests arrive together', async () => {
    const alone = Math.min(await ttftMs(client, prompt(150)), await ttftMs(client, prompt(150)));
    const burst = await Promise.all(Array.from({ length: 12 }, () => ttftMs(client, prompt(150))));
    const mean = burst.reduce((s, x) => s + x, 0) / burst.length;
    // Model: ~45 ms alone; the burst's prefills share a 256-token budget per step (mean ~6x, last ~12x).
    expect(mean).toBeGreaterThan(2 * alone);
    expect(Math.max(...burst)).toBeGreaterThan(3 * alone);
  });

  it('a repeated long prompt prefix gets a shorter TTFT the second time', async () => {
    const doc = prompt(1500);
    const first = await ttftMs(client, `${doc}\nQuestion one?`);
    const second = await ttftMs(client, `${doc}\nAnother question?`);
    // Model: ~6 chunked prefill steps (~420 ms wall) the first time, one short step the second.
    expect(second).toBeLessThan(first / 3);
    const metrics = await (await fetch(`${engine.url}/metrics`)).text();
    expect(Number(/^vllm:prefix_cache_hit_tokens_total\{[^}]*\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(1000);
  });
});

describe('sim-llm timing (batching throughput)', () => {
  let engine: EngineProcess;
  let client: OpenAI;
  beforeAll(async () => {
    // Decode steps of 20 ms + 2 ms per running sequence, at most 4 running, run 2x faster than real time.
    engine = await startEngine('sim-llm', ['--model', MODEL, '--decode-base-ms', '20', '--decode-per-seq-ms', '2', '--max-num-seqs', '4', '--prefill-tokens-per-second', '100000', '--time-scale', '0.5']);
    client = new OpenAI({ baseURL: `${engine.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    await ttftMs(client, prompt(10)); // warm up: tokenizer load, first connection
  });
  afterAll(async () => {
    await engine?.stop();
  });

  /** Generated tokens per wall second with `c` concurrent requests of 40 tokens each. */
  async function throughput(c: number): Promise<number> {
    const t0 = performance.now();
    const rs = await Promise.all(Array.from({ length: c }, (_, i) => client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: `request ${i} ${randomUUID()}` }], max_tokens: 40 })));
    const tokens = rs.reduce((s, r) => s + r.usage!.completion_tokens, 0);
    expect(tokens).toBe(40 * c);
    return tokens / ((performance.now() - t0) / 1000);
  }

  it('streams tokens at the pace of the model (TPOT of a lone request)', async () => {
    const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: `pace ${randomUUID()}` }], max_tokens: 60, stream: true });
    const times: number[] = [];
    for await (const chunk of stream) if (chunk.choices[0]?.delta.content) times.push(performance.now());
    const tpot = (times[times.length - 1]! - times[0]!) / (times.length - 1);
    // Model: (20 + 2 x 1) ms per step x 0.5 = 11 ms per token.
    expect(tpot).toBeGreaterThan(11 * 0.8);
    expect(tpot).toBeLessThan(11 * 2.5);
  });

  it('rises with concurrency up to the sequence limit, then flattens', async () => {
    const t1 = await throughput(1);
    const t4 = await throughput(4);
    const t8 = await throughput(8);
    // Model: ~91 tokens/s alone, ~286 with 4 running, and still ~286 with 8 (4 of them wait).
    expect(t4).toBeGreaterThan(2 * t1);
    expect(t8).toBeLessThan(1.4 * t4);
    expect(t8).toBeGreaterThan(0.6 * t4);
  });
});
