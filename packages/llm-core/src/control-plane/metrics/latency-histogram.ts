// A latency distribution on an HDR histogram (pure-JS build: no WebAssembly, nothing to initialise).
// Values are recorded in microseconds so sub-millisecond TPOTs keep their precision (3 significant digits),
// and reported in milliseconds.
import { build, type Histogram } from 'hdr-histogram-js';

export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

const US_PER_MS = 1000;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Slots of the table of values not yet in the histogram (a power of two). */
const PENDING_SLOTS = 64;
const PENDING_SHIFT = 32 - Math.log2(PENDING_SLOTS);

/**
 * Recording a value in the HDR histogram costs a log2, a division and two powers (~60 ns), and latencies measured
 * in whole milliseconds repeat a handful of values. So each slot of a small table (chosen by a hash of the value)
 * remembers the last value that came to it: a value that comes again is only counted there, and goes into the
 * histogram with its count when another value takes its slot or when the histogram is read; any other value goes
 * in at once (a spread of values costs what it did). HDR counts depend neither on the order values came in nor
 * on whether a value came n times or once with count n: every read sees what recording each value at once gives.
 */
export class LatencyHistogram {
  private readonly h: Histogram = build({ useWebAssembly: false, numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, autoResize: true });
  /** Exact sum of the recorded values in µs: the library's mean walks every bucket (~10 ms at 16k buckets). */
  private sumUs = 0;
  /** The value (µs) each slot last saw (-1: none), and how many times it came again since it went into the histogram. */
  private readonly lastValue = new Float64Array(PENDING_SLOTS).fill(-1);
  private readonly pendingCount = new Float64Array(PENDING_SLOTS);
  /** Values counted in the table and not yet in the histogram. */
  private pending = 0;

  /** Records one value in ms; negative or non-finite values are ignored (a clock glitch is not a latency). */
  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    const us = Math.round(ms * US_PER_MS);
    this.sumUs += us;
    const slot = Math.imul(us | 0, 0x9e3779b1) >>> PENDING_SHIFT;
    if (this.lastValue[slot] === us) {
      this.pendingCount[slot] += 1;
      this.pending += 1;
      return;
    }
    const n = this.pendingCount[slot]!;
    if (n > 0) {
      this.h.recordValueWithCount(this.lastValue[slot]!, n);
      this.pendingCount[slot] = 0;
      this.pending -= n;
    }
    this.lastValue[slot] = us;
    this.h.recordValue(us);
  }

  /** Moves the values counted in the table into the histogram (before any read of it). */
  private settle(): void {
    if (this.pending === 0) return;
    const counts = this.pendingCount;
    for (let slot = 0; slot < PENDING_SLOTS; slot++) {
      const n = counts[slot]!;
      if (n === 0) continue;
      this.h.recordValueWithCount(this.lastValue[slot]!, n);
      counts[slot] = 0;
    }
    this.pending = 0;
  }

  get count(): number {
    return this.h.totalCount + this.pending;
  }

  percentile(p: number): number {
    this.settle();
    return this.h.totalCount === 0 ? 0 : round3(this.h.getValueAtPercentile(p) / US_PER_MS);
  }

  summary(): LatencySummary {
    this.settle();
    if (this.h.totalCount === 0) return { count: 0, min: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 };
    return {
      count: this.h.totalCount,
      min: round3(this.h.minNonZeroValue === Number.MAX_SAFE_INTEGER ? 0 : this.h.minNonZeroValue / US_PER_MS),
      mean: round3(this.sumUs / this.h.totalCount / US_PER_MS),
      p50: this.percentile(50),
      p95: this.percentile(95),
      p99: this.percentile(99),
      max: round3(this.h.maxValue / US_PER_MS),
    };
  }

  /** Adds every value recorded in `other` to this histogram (used to merge the slices of a time window). */
  add(other: LatencyHistogram): void {
    other.settle();
    if (other.h.totalCount === 0) return;
    this.h.add(other.h);
    this.sumUs += other.sumUs;
  }

  reset(): void {
    this.h.reset();
    this.pendingCount.fill(0);
    this.pending = 0;
    this.sumUs = 0;
  }
}
