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

export class LatencyHistogram {
  private readonly h: Histogram = build({ useWebAssembly: false, numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, autoResize: true });
  /** Exact sum of the recorded values in µs: the library's mean walks every bucket (~10 ms at 16k buckets). */
  private sumUs = 0;

  /** Records one value in ms; negative or non-finite values are ignored (a clock glitch is not a latency). */
  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    const us = Math.round(ms * US_PER_MS);
    this.h.recordValue(us);
    this.sumUs += us;
  }

  get count(): number {
    return this.h.totalCount;
  }

  percentile(p: number): number {
    return this.h.totalCount === 0 ? 0 : round3(this.h.getValueAtPercentile(p) / US_PER_MS);
  }

  summary(): LatencySummary {
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
    if (other.h.totalCount === 0) return;
    this.h.add(other.h);
    this.sumUs += other.sumUs;
  }

  reset(): void {
    this.h.reset();
    this.sumUs = 0;
  }
}
