// The engine model in virtual time: exact, instant, and independent of the machine's load.
import { BatchScheduler } from '../src/model/scheduler';
import { KvBlockPool } from '../src/model/kv-cache';
import { resolveEngineModelParams, simulate, type SimArrival } from '../src';

const bs = 16;
/** Distinct block hashes for a prompt of `tokens` tokens, sharing the first `sharedBlocks` with `family`. */
function hashes(tokens: number, family: string, unique: string, sharedBlocks = Infinity): string[] {
  return Array.from({ length: Math.floor(tokens / bs) }, (_, i) => (i < sharedBlocks ? `${family}:${i}` : `${unique}:${i}`));
}
function req(id: string, atMs: number, promptTokens: number, outputTokens: number, blockHashes: string[] = hashes(promptTokens, id, id)): SimArrival {
  return { id, atMs, promptTokens, outputTokens, blockHashes };
}

const base = { prefillTokensPerSecond: 10_000, maxBatchedTokens: 2048, decodeBaseMs: 10, decodePerSeqMs: 1, maxRunningSeqs: 8, kvCacheBlocks: 4096 };

describe('engine model (virtual time)', () => {
  it('times a lone request exactly: prefill step, then one decode step per token', () => {
    const r = simulate([req('a', 0, 1000, 5)], base);
    const o = r.outcomes.get('a')!;
    expect(o.firstTokenMs).toBeCloseTo(10 + 100, 6); // base + 1000 tokens at 10k tokens/s
    expect(o.finishMs - o.firstTokenMs).toBeCloseTo(4 * (10 + 1), 6); // 4 more tokens, 1 sequence decoding
    expect(r.steps).toBe(5);
  });

  it('chunks long prefills by the per-step token budget', () => {
    const r = simulate([req('a', 0, 5000, 1)], { ...base, maxBatchedTokens: 1000 });
    expect(r.steps).toBe(5);
    expect(r.outcomes.get('a')!.firstTokenMs).toBeCloseTo(5 * 10 + 500, 6);
  });

  it('queues: TTFT grows when many requests arrive together', () => {
    const alone = simulate([req('x', 0, 1000, 10)], base).outcomes.get('x')!.firstTokenMs;
    const burst = simulate(Array.from({ length: 32 }, (_, i) => req(`r${i}`, 0, 1000, 10)), base);
    const ttfts = [...burst.outcomes.values()].map((o) => o.firstTokenMs);
    const mean = ttfts.reduce((s, x) => s + x, 0) / ttfts.length;
    expect(Math.min(...ttfts)).toBeGreaterThanOrEqual(alone - 1e-9);
    expect(mean).toBeGreaterThan(3 * alone);
    expect(burst.maxWaiting).toBeGreaterThan(0); // beyond maxRunningSeqs they wait
    expect(burst.maxRunning).toBeLessThanOrEqual(8);
  });

  it('FIFO: earlier arrivals get their first token no later than later ones of the same size', () => {
    const r = simulate(Array.from({ length: 20 }, (_, i) => req(`r${i}`, i, 500, 5)), base);
    const t = Array.from({ length: 20 }, (_, i) => r.outcomes.get(`r${i}`)!.firstTokenMs);
    for (let i = 1; i < t.length; i++) expect(t[i]).toBeGreaterThanOrEqual(t[i - 1]!);
  });

  it('prefix caching: a repeated long prefix skips its prefill the second time', () => {
    const first = req('a', 0, 4000, 2, hashes(4000, 'doc', 'a', 240));
    const second = req('b', 10_000, 4010, 2, hashes(4010, 'doc', 'b', 240));
    const r = simulate([first, second], base);
    const a = r.outcomes.get('a')!;
    const b = r.outcomes.get('b')!;
    expect(a.cachedTokens).toBe(0);
    expect(b.cachedTokens).toBe(240 * 16);
    expect(b.firstTokenMs - b.arrivalMs).toBeLessThan((a.firstTokenMs - a.arrivalMs) / 4);
    const off = simulate([first, second], { ...base, enablePrefixCaching: false }).outcomes.get('b')!;
    expect(off.cachedTokens).toBe(0);
    expect(off.firstTokenMs - off.arrivalMs).toBeGreaterThan(b.firstTokenMs - b.arrivalMs);
  });

  it('a fully cached prompt still computes its last token', () => {
    const r = simulate([req('a', 0, 320, 1, hashes(320, 'p', 'a')), req('b', 1000, 320, 1, hashes(320, 'p', 'b'))], base);
    expect(r.outcomes.get('b')!.cachedTokens).toBe(304);
  });

  it('throughput rises with concurrency up to the sequence limit, then flattens', () => {
    const throughput = (c: number) => {
      const r = simulate(Array.from({ length: c }, (_, i) => req(`r${i}`, 0, 100, 200)), base);
      return (c * 200) / r.endMs;
    };
    const [t1, t2, t4, t8, t16, t32] = [1, 2, 4, 8, 16, 32].map(throughput) as number[];
    expect(t2).toBeGreaterThan(t1 * 1.5);
    expect(t4).toBeGreaterThan(t2 * 1.4);
    expect(t8).toBeGreaterThan(t4 * 1.2);
    expect(t16).toBeLessThan(t8 * 1.1);
    expect(t32).toBeLessThan(t8 * 1.1);
    expect(t32).toBeGreaterThan(t8 * 0.9);
  });

  it('decode steps get slower as more sequences run', () => {
    const one = simulate([req('a', 0, 16, 50)], base).outcomes.get('a')!;
    const many = simulate(Array.from({ length: 8 }, (_, i) => req(`r${i}`, 0, 16, 50)), base).outcomes.get('r0')!;
    expect(many.finishMs - many.firstTokenMs).toBeGreaterThan(one.finishMs - one.firstTokenMs);
  });

  it('KV-cache capacity limits admission below the sequence limit', () => {
    // 1000-token prompts hold 63 blocks each: 200 blocks fit 3 of them, not 8.
    const r = simulate(Array.from({ length: 8 }, (_, i) => req(`r${i}`, 0, 1000, 4)), { ...base, kvCacheBlocks: 200 });
    expect(r.maxRunning).toBe(3);
    expect([...r.outcomes.values()].every((o) => Number.isFinite(o.finishMs))).toBe(true);
  });

  it('preempts (recompute) when decoding runs out of blocks, and still finishes everything', () => {
    const sched = new BatchScheduler(resolveEngineModelParams({ ...base, kvCacheBlocks: 10 }));
    for (let i = 0; i < 4; i++) sched.add({ id: `s${i}`, promptTokens: 30, blockHashes: [], outputTokens: 40 });
    const finished = new Set<string>();
    for (let step = 0; step < 2000 && sched.hasWork(); step++) {
      for (const t of sched.commit(sched.plan()).tokens) if (t.finished) finished.add(t.id);
    }
    expect(finished.size).toBe(4);
    expect(sched.stats().preemptions).toBeGreaterThan(0);
    expect(sched.stats().kvUsage).toBe(0);
  });

  it('skips the prefill of a request whose KV came from a remote prefill', () => {
    const local = simulate([req('a', 0, 3000, 3)], base).outcomes.get('a')!;
    const remote = simulate([{ ...req('b', 0, 3000, 3), skipPrefill: true }], base).outcomes.get('b')!;
    expect(remote.firstTokenMs).toBeCloseTo(10 + 1, 6); // first step is a decode step
    expect(remote.firstTokenMs).toBeLessThan(local.firstTokenMs / 5);
  });

  it('is deterministic', () => {
    const w = Array.from({ length: 30 }, (_, i) => req(`r${i}`, i * 7, 200 + ((i * 37) % 500), 5 + (i % 13)));
    const a = simulate(w, base);
    const b = simulate(w, base);
    expect([...a.outcomes.values()]).toEqual([...b.outcomes.values()]);
  });

  it('rejects nonsense parameters', () => {
    expect(() => resolveEngineModelParams({ prefillTokensPerSecond: 0 })).toThrow(/prefillTokensPerSecond/);
    expect(() => resolveEngineModelParams({ maxRunningSeqs: 2.5 })).toThrow(/maxRunningSeqs/);
    expect(() => resolveEngineModelParams({ decodeBaseMs: -1 })).toThrow(/decodeBaseMs/);
  });
});

describe('KvBlockPool', () => {
  it('keeps released published blocks cached and evicts the least recently used first', () => {
    const pool = new KvBlockPool(4);
    const a = { hashes: [] as string[], privateBlocks: 0 };
    expect(pool.allocate(2, a)).toBe(true);
    pool.publish('h1', a);
    pool.publish('h2', a);
    pool.release(a);
    expect(pool.available()).toBe(4);
    expect(pool.cachedBlocks()).toBe(2);
    const b = { hashes: [] as string[], privateBlocks: 0 };
    pool.acquire(['h2'], b); // h2 is in use again: only h1 is evictable
    expect(pool.allocate(3, b)).toBe(true); // 2 free + evict h1
    expect(pool.countHits(['h1'])).toBe(0);
    expect(pool.countHits(['h2'])).toBe(1);
    expect(pool.allocate(1, b)).toBe(false);
    expect(pool.usage()).toBe(1);
  });
});
