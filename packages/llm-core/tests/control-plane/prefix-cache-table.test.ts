// prefix_aware's picture of each engine's KV cache: sized by the engine's capacity (metrics or registration),
// aged LRU as the engine's cache is, and traded against load within a bound.
import { createRouter, PrefixAwareRouter, PrefixCacheTable, prefixBlockHashes, promptText } from '../../src/control-plane/routing';
import { inst, mulberry32, req } from './policies-fixtures';

const words = (seed: number, n: number) => {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, () => ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'][Math.floor(rand() * 8)]).join(' ');
};

describe('PrefixCacheTable', () => {
  it('holds at most an instance’s KV capacity in blocks and forgets the least recently used first', () => {
    const t = new PrefixCacheTable({ blockSize: 16, defaultBlocks: 1000 });
    expect(t.capacityFor(undefined)).toBe(1000);
    expect(t.capacityFor(160)).toBe(10);
    t.use('a', [1, 2, 3, 4, 5, 6], 160);
    t.use('a', [7, 8, 9, 10], 160);
    expect(t.size('a')).toEqual({ blocks: 10, capacity: 10 });
    t.use('a', [1, 2], 160); // refreshed: now the youngest
    t.use('a', [11, 12], 160); // evicts 3 and 4, the oldest
    expect(t.matched('a', [1, 2, 3])).toBe(2);
    expect(t.matched('a', [7, 8, 9, 10, 11, 12])).toBe(6);
    // A prefix hit needs every block before it.
    expect(t.matched('a', [3, 7])).toBe(0);
    // A capacity that shrinks (the engine reported a smaller cache) trims at once.
    t.use('a', [], 64);
    expect(t.size('a')).toEqual({ blocks: 4, capacity: 4 });
    t.retain(new Set());
    expect(t.size('a')).toBeUndefined();
  });
});

describe('prefix_aware sized to the engines’ caches', () => {
  const prefixes = Array.from({ length: 6 }, (_, i) => words(i + 1, 200));
  const ask = (k: number, id: string) => req(id, { messages: [{ role: 'system', content: prefixes[k]! }, { role: 'user', content: `question ${id}` }] });
  const blocksOf = (k: number) => prefixBlockHashes(promptText(ask(k, 'x')), 'm', 16).length;

  it('settles prefixes that do not fit one engine on two, and keeps hitting them', () => {
    const perPrefix = blocksOf(0);
    // Each engine holds four prefixes' blocks; six do not fit one but fit two.
    const kv = 4 * perPrefix * 16 + 64;
    const a = inst('a', { maxConcurrency: 8, kvCacheTokens: kv });
    const b = inst('b', { maxConcurrency: 8, kvCacheTokens: kv });
    const router = createRouter('prefix_aware', { rng: mulberry32(5) }) as PrefixAwareRouter;
    const home = new Map<number, string>();
    let hits = 0;
    const rand = mulberry32(11);
    for (let n = 0; n < 120; n++) {
      const k = Math.floor(rand() * prefixes.length);
      const r = ask(k, `r${n}`);
      const matched = router.longestMatch(r, [a, b]);
      const chosen = router.route(r, [a, b])!;
      if (matched && matched.blocks >= perPrefix - 1) hits += 1;
      if (!home.has(k)) home.set(k, chosen.id);
      expect(chosen.id).toBe(home.get(k)); // equal load: a prefix stays where it is cached
    }
    expect(new Set(home.values()).size).toBe(2);
    expect(hits).toBeGreaterThan(110); // every request after each prefix's first
    expect(router.cacheView('a')!.capacity).toBe(Math.floor(kv / 16));
  });

  it('forgets a prefix its engine must have evicted: it is not a hit any more', () => {
    const perPrefix = blocksOf(0);
    const small = inst('a', { kvCacheTokens: 2 * perPrefix * 16 });
    const router = new PrefixAwareRouter();
    router.route(ask(0, 'p0'), [small]);
    router.route(ask(1, 'p1'), [small]);
    router.route(ask(2, 'p2'), [small]); // a third prefix pushes the first out of a two-prefix cache
    expect(router.longestMatch(ask(2, 'again'), [small])?.blocks).toBeGreaterThanOrEqual(perPrefix - 1);
    expect(router.longestMatch(ask(0, 'again'), [small])).toBeUndefined();
  });

  it('trades the hit for load within a bound', () => {
    const router = new PrefixAwareRouter({ maxLoadImbalance: 0.5, rng: mulberry32(1) });
    const a = inst('a', { maxConcurrency: 4 });
    const b = inst('b', { maxConcurrency: 4 });
    expect(router.route(ask(0, 'first'), [a, b])).toBeDefined();
    const homeId = router.longestMatch(ask(0, 'x'), [a, b])!.instanceId;
    const home = homeId === 'a' ? a : b;
    const other = homeId === 'a' ? b : a;
    const busy = { ...home, load: { ...home.load, activeRequests: 2 } }; // 0.5 busier: still within the bound
    expect(router.route(ask(0, 'second'), [busy, other])!.id).toBe(homeId);
    const busier = { ...home, load: { ...home.load, activeRequests: 3 } }; // 0.75 busier: the least loaded wins
    expect(router.route(ask(0, 'third'), [busier, other])!.id).toBe(other.id);
  });
});
