// The incremental LatencyOutliers (sorted windows per instance and per group) against a direct reading of its
// rule: on random traffic, every sample gets the verdict that sorting copies of the window's samples gives.
import { findOutliers, LatencyOutliers } from '../../src/control-plane/manager';
import { SortedValues, medianOfDifference } from '../../src/control-plane/manager/sorted-values';

/** The rule read directly: every sample's verdict from copies of the window (as findOutliers is applied). */
class Oracle {
  private readonly samples = new Map<string, { group: string; list: Array<{ at: number; value: number }> }>();
  private readonly drained = new Map<string, { reason: string; until: number }>();
  constructor(private readonly o: { windowMs: number; minSamples: number; factor: number; minSpanMs: number; drainMs: number; now: () => number }) {}

  drainedReason(id: string): string | undefined {
    const d = this.drained.get(id);
    if (!d) return undefined;
    if (this.o.now() < d.until) return d.reason;
    this.drained.delete(id);
    this.samples.delete(id);
    return undefined;
  }

  observe(id: string, group: string, value: number): string | undefined {
    const now = this.o.now();
    if (this.drainedReason(id) !== undefined) return undefined;
    let entry = this.samples.get(id);
    if (!entry || entry.group !== group) this.samples.set(id, (entry = { group, list: [] }));
    entry.list.push({ at: now, value });
    const judged = [];
    for (const [iid, e] of this.samples) {
      e.list = e.list.filter((s) => s.at >= now - this.o.windowMs);
      if (this.drainedReason(iid) === undefined) judged.push({ id: iid, group: e.group, samples: e.list.map((s) => s.value), spanMs: e.list.length ? e.list[e.list.length - 1]!.at - e.list[0]!.at : 0 });
    }
    const reason = findOutliers(judged, this.o).get(id);
    if (reason === undefined) return undefined;
    const members = [...this.samples.values()].filter((e) => e.group === group).length;
    const out = [...this.samples].filter(([iid, e]) => e.group === group && this.drained.has(iid) && this.drainedReason(iid) !== undefined).length;
    if ((out + 1) * 2 > members) return undefined;
    this.drained.set(id, { reason, until: now + this.o.drainMs });
    return reason;
  }
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

describe('LatencyOutliers, incremental', () => {
  it.each([1, 2, 3, 4])('agrees with the rule read directly on random traffic (seed %i)', (seed) => {
    const r = rng(seed);
    let now = 0;
    // drainMs ≥ windowMs: a readmitted instance's old samples have left the window in both.
    const opts = { windowMs: 2000, minSamples: 3 + Math.floor(r() * 4), factor: 2 + r() * 2, minSpanMs: Math.floor(r() * 500), drainMs: 2500, now: () => now };
    const fast = new LatencyOutliers(opts);
    const oracle = new Oracle(opts);
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const slow = new Set(['c']);
    let verdicts = 0;
    for (let k = 0; k < 1500; k++) {
      now += Math.floor(r() * 8);
      if (k % 350 === 0) slow.add(ids[Math.floor(r() * ids.length)]!);
      const id = ids[Math.floor(r() * ids.length)]!;
      const group = id === 'e' && k > 750 ? 'h' : 'g';
      // Round values, so that ties (equal samples) are frequent.
      const value = Math.round((slow.has(id) ? 40 + r() * 80 : 10 + r() * 10) * 4) / 4;
      const got = fast.observe(id, group, value);
      expect(got).toBe(oracle.observe(id, group, value));
      if (got) verdicts += 1;
      for (const i of ids) expect(fast.drainedReason(i)).toBe(oracle.drainedReason(i));
    }
    expect(verdicts).toBeGreaterThan(0);
  });

  it.each([5, 6])('agrees with it when an instance runs alone for a while and its peers join later (seed %i)', (seed) => {
    const r = rng(seed);
    let now = 0;
    const opts = { windowMs: 3000, minSamples: 4, factor: 2.5, minSpanMs: 100, drainMs: 3500, now: () => now };
    const fast = new LatencyOutliers(opts);
    const oracle = new Oracle(opts);
    let verdicts = 0;
    for (let k = 0; k < 1500; k++) {
      now += Math.floor(r() * 6);
      // 'a' alone (no peers: never judged past the peer count), then 'b', then 'c' and 'd', which is slow.
      const ids = k < 400 ? ['a'] : k < 700 ? ['a', 'b'] : ['a', 'b', 'c', 'd'];
      const id = ids[Math.floor(r() * ids.length)]!;
      const value = Math.round((id === 'd' ? 50 + r() * 50 : 10 + r() * 10) * 2) / 2;
      const got = fast.observe(id, 'g', value);
      expect(got).toBe(oracle.observe(id, 'g', value));
      if (got) verdicts += 1;
      for (const i of ['a', 'b', 'c', 'd']) expect(fast.drainedReason(i)).toBe(oracle.drainedReason(i));
    }
    expect(verdicts).toBeGreaterThan(0);
  });
});

describe('SortedValues', () => {
  it('made at once from a list answers as one filled a value at a time', () => {
    const r = rng(7);
    for (const n of [0, 1, 255, 256, 257, 1000, 3000]) {
      const values = Array.from({ length: n }, () => Math.floor(r() * 500) / 4);
      const bulk = SortedValues.of(values);
      const one = new SortedValues();
      for (const v of values) one.add(v);
      expect(bulk.size).toBe(one.size);
      for (const k of [0, 1, n >> 1, n - 1]) if (k >= 0 && k < n) expect(bulk.kth(k)).toBe(one.kth(k));
      for (const t of [0, 10, 62.5, 125]) expect(bulk.countBelow(t)).toBe(one.countBelow(t));
      // It stays right through later changes.
      for (const v of values.slice(0, n >> 1)) expect(bulk.remove(v)).toBe(true);
      for (let k = 0; k < 600; k++) bulk.add(Math.floor(r() * 500) / 4);
      expect(bulk.size).toBe(n - (n >> 1) + 600);
    }
  });


  it('keeps order statistics through adds and removes, and the median of a difference', () => {
    const r = rng(42);
    const all = new SortedValues();
    const part = new SortedValues();
    const plain: number[] = [];
    const mine: number[] = [];
    for (let k = 0; k < 5000; k++) {
      const v = Math.floor(r() * 300);
      all.add(v);
      plain.push(v);
      if (r() < 0.3) {
        part.add(v);
        mine.push(v);
      }
      if (r() < 0.25 && mine.length > 0) {
        const x = mine.splice(Math.floor(r() * mine.length), 1)[0]!;
        expect(part.remove(x)).toBe(true);
        expect(all.remove(x)).toBe(true);
        plain.splice(plain.indexOf(x), 1);
      }
    }
    expect(all.remove(1e9)).toBe(false);
    const sorted = [...plain].sort((a, b) => a - b);
    expect(all.size).toBe(sorted.length);
    for (const k of [0, 1, 17, Math.floor(sorted.length / 2), sorted.length - 1]) expect(all.kth(k)).toBe(sorted[k]);
    expect(all.countBelow(150)).toBe(sorted.filter((v) => v < 150).length);
    expect(all.countAtMost(150)).toBe(sorted.filter((v) => v <= 150).length);
    const rest = [...plain];
    for (const x of mine) rest.splice(rest.indexOf(x), 1);
    rest.sort((a, b) => a - b);
    const mid = rest.length >> 1;
    expect(medianOfDifference(all, part)).toBe(rest.length % 2 ? rest[mid] : (rest[mid - 1]! + rest[mid]!) / 2);
  });
});
