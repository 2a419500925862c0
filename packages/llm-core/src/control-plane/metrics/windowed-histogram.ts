// A latency distribution over the recent past: a ring of per-slice HDR histograms, merged when read (the
// scheme of Prometheus summaries' maxAge/ageBuckets). A value lands in the slice of the time it was observed;
// slices are recycled lazily as the clock moves on, so there are no timers. With N slices of S ms, a read
// covers the current, partly filled slice plus the N-1 before it: between (N-1)·S and N·S of history.
import { LatencyHistogram, type LatencySummary } from './latency-histogram';

interface Slice {
  /** floor(time / sliceMs) of the values it holds; -Infinity while unused. */
  index: number;
  histogram: LatencyHistogram;
}

export interface WindowedLatencyOptions {
  /** Length of one slice in ms. */
  sliceMs: number;
  /** Number of slices kept (the window is slices × sliceMs). */
  slices: number;
}

export class WindowedLatencyHistogram {
  readonly sliceMs: number;
  readonly slices: number;
  private readonly ring: Slice[];

  constructor(options: WindowedLatencyOptions) {
    const { sliceMs, slices } = options;
    if (!(sliceMs > 0) || !Number.isFinite(sliceMs)) throw new RangeError(`sliceMs must be a finite number > 0, got ${String(sliceMs)}`);
    if (!Number.isInteger(slices) || slices < 1) throw new RangeError(`slices must be an integer >= 1, got ${String(slices)}`);
    this.sliceMs = sliceMs;
    this.slices = slices;
    this.ring = Array.from({ length: slices }, () => ({ index: -Infinity, histogram: new LatencyHistogram() }));
  }

  /** Start (on the caller's clock) of the oldest slice a read at `now` covers. */
  windowStart(now: number): number {
    return (this.sliceIndex(now) - this.slices + 1) * this.sliceMs;
  }

  /**
   * Records `ms` as observed at `at`. Values older than the window at `now` are left out (they only belong to
   * the cumulative figures); values stamped after `now` (a clock skew) count as observed now.
   */
  record(ms: number, at: number, now: number): void {
    const current = this.sliceIndex(now);
    // As a rule a value is observed now: its slice is the current one, with no second division.
    const index = at === now ? current : Math.min(this.sliceIndex(at), current);
    if (index <= current - this.slices) return;
    const slot = this.ring[this.position(index)];
    if (slot.index !== index) {
      // The slot holds an older slice, long out of the window by now: recycle it.
      if (slot.index > index) return;
      slot.histogram.reset();
      slot.index = index;
    }
    slot.histogram.record(ms);
  }

  /** Percentiles over the window ending at `now`. */
  summary(now: number): LatencySummary {
    const current = this.sliceIndex(now);
    const merged = new LatencyHistogram();
    for (const slot of this.ring) {
      if (slot.index > current - this.slices && slot.index <= current) merged.add(slot.histogram);
    }
    return merged.summary();
  }

  reset(): void {
    for (const slot of this.ring) {
      slot.index = -Infinity;
      slot.histogram.reset();
    }
  }

  private sliceIndex(t: number): number {
    return Math.floor(t / this.sliceMs);
  }

  private position(index: number): number {
    const p = index % this.slices;
    return p < 0 ? p + this.slices : p;
  }
}
