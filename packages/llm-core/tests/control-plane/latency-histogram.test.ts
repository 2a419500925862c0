// LatencyHistogram counts a value that comes again in a small table and records it in the HDR histogram with its
// count later (when its slot is wanted, or at the first read). Whatever mix of values, reads, merges and resets
// arrives, every read must give what recording each value into the HDR histogram at once gives: the rule below.
import { mulberry32 } from '@sage/common';
import { build, type Histogram } from 'hdr-histogram-js';
import { LatencyHistogram, WindowedLatencyHistogram, type LatencySummary } from '../../src/control-plane/metrics';

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** The rule: each value recorded in µs into an HDR histogram as it comes, read as LatencyHistogram reports. */
class Direct {
  readonly h: Histogram = build({ useWebAssembly: false, numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, autoResize: true });
  sumUs = 0;

  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    const us = Math.round(ms * 1000);
    this.h.recordValue(us);
    this.sumUs += us;
  }

  percentile(p: number): number {
    return this.h.totalCount === 0 ? 0 : round3(this.h.getValueAtPercentile(p) / 1000);
  }

  summary(): LatencySummary {
    const h = this.h;
    if (h.totalCount === 0) return { count: 0, min: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 };
    return {
      count: h.totalCount,
      min: round3(h.minNonZeroValue === Number.MAX_SAFE_INTEGER ? 0 : h.minNonZeroValue / 1000),
      mean: round3(this.sumUs / h.totalCount / 1000),
      p50: this.percentile(50),
      p95: this.percentile(95),
      p99: this.percentile(99),
      max: round3(h.maxValue / 1000),
    };
  }

  add(other: Direct): void {
    if (other.h.totalCount === 0) return;
    this.h.add(other.h);
    this.sumUs += other.sumUs;
  }

  reset(): void {
    this.h.reset();
    this.sumUs = 0;
  }
}

/** A latency as requests make them: whole milliseconds that repeat, a spread, sub-ms, zero, huge, or invalid. */
function latency(r: () => number): number {
  const k = r();
  if (k < 0.4) return 1 + Math.floor(r() * 4);
  if (k < 0.6) return Math.floor(r() * 3000);
  if (k < 0.75) return r() * 5;
  if (k < 0.8) return 0;
  if (k < 0.85) return 1e6 + r() * 1e8;
  if (k < 0.9) return [-1, NaN, Infinity, -0.5][Math.floor(r() * 4)]!;
  return 100 + Math.floor(r() * 4) * 0.5;
}

describe('LatencyHistogram', () => {
  it.each([1, 2, 3, 4, 5, 6])('reads what recording each value at once reads, through reads, merges and resets (seed %i)', (seed) => {
    const r = mulberry32(seed);
    const mine = [new LatencyHistogram(), new LatencyHistogram()];
    const rule = [new Direct(), new Direct()];
    for (let k = 0; k < 20_000; k++) {
      const i = r() < 0.5 ? 0 : 1;
      const op = r();
      if (op < 0.9) {
        const v = latency(r);
        mine[i]!.record(v);
        rule[i]!.record(v);
      } else if (op < 0.93) {
        expect(mine[i]!.count).toBe(rule[i]!.h.totalCount);
      } else if (op < 0.96) {
        expect(mine[i]!.summary()).toEqual(rule[i]!.summary());
      } else if (op < 0.98) {
        const p = [0, 1, 50, 99.9, 100][Math.floor(r() * 5)]!;
        expect(mine[i]!.percentile(p)).toBe(rule[i]!.percentile(p));
      } else if (op < 0.995) {
        // Merging carries the other's values still in its table, and leaves the other as it was.
        mine[i]!.add(mine[1 - i]!);
        rule[i]!.add(rule[1 - i]!);
        expect(mine[1 - i]!.summary()).toEqual(rule[1 - i]!.summary());
      } else {
        mine[i]!.reset();
        rule[i]!.reset();
      }
    }
    for (const i of [0, 1]) {
      expect(mine[i]!.count).toBe(rule[i]!.h.totalCount);
      expect(mine[i]!.summary()).toEqual(rule[i]!.summary());
    }
  });

  it('counts a run of one value before any read, and the values that took turns in the table', () => {
    const h = new LatencyHistogram();
    const rule = new Direct();
    for (let k = 0; k < 1000; k++) {
      h.record(2);
      rule.record(2);
    }
    expect(h.count).toBe(1000);
    // Many distinct values: they share the table's slots, so each one in turn evicts another.
    for (let v = 0; v < 5000; v++) {
      h.record(3 + (v % 997));
      rule.record(3 + (v % 997));
    }
    expect(h.summary()).toMatchObject({ count: 6000, min: 2, max: 999 });
    expect(h.summary()).toEqual(rule.summary());
    h.record(2);
    expect(h.count).toBe(6001);
    h.reset();
    expect(h.summary()).toEqual({ count: 0, min: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 });
  });

  it('windows merge the values their slices still hold in their tables', () => {
    const w = new WindowedLatencyHistogram({ sliceMs: 1000, slices: 3 });
    const rule = new Direct();
    for (let t = 0; t < 3000; t++) {
      w.record(1 + (t % 2), t, t);
      rule.record(1 + (t % 2));
    }
    expect(w.summary(2999)).toEqual(rule.summary());
  });
});
