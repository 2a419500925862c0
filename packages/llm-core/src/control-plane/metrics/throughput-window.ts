// Completions and their tokens over a sliding window, in a fixed ring of time buckets (1/120 of the window each):
// memory and work per request stay the same whatever the traffic, where a list of every completion in the window
// grew with it (and held it until the next read). A read counts the buckets that end after the window's start.
const BUCKETS = 120;

export interface ThroughputTotals {
  requests: number;
  prompt: number;
  completion: number;
}

export class ThroughputWindow {
  private readonly bucketMs: number;
  private readonly index = new Float64Array(BUCKETS).fill(-Infinity);
  private readonly requests = new Float64Array(BUCKETS);
  private readonly prompt = new Float64Array(BUCKETS);
  private readonly completion = new Float64Array(BUCKETS);

  constructor(private readonly windowMs: number) {
    this.bucketMs = windowMs / BUCKETS;
  }

  /** A completion at `at` (a time ahead of `now` counts as now; one before the window is left out). */
  add(at: number, now: number, prompt: number, completion: number): void {
    const current = Math.floor(now / this.bucketMs);
    const i = Math.min(Math.floor(at / this.bucketMs), current);
    if (i <= current - BUCKETS || at < now - this.windowMs) return;
    const slot = ((i % BUCKETS) + BUCKETS) % BUCKETS;
    if (this.index[slot] !== i) {
      if ((this.index[slot] as number) > i) return; // the slot already holds a newer bucket
      this.index[slot] = i;
      this.requests[slot] = 0;
      this.prompt[slot] = 0;
      this.completion[slot] = 0;
    }
    this.requests[slot] += 1;
    this.prompt[slot] += prompt;
    this.completion[slot] += completion;
  }

  /** Totals of the window ending at `now`. */
  totals(now: number): ThroughputTotals {
    const current = Math.floor(now / this.bucketMs);
    const first = Math.floor((now - this.windowMs) / this.bucketMs);
    const t = { requests: 0, prompt: 0, completion: 0 };
    for (let slot = 0; slot < BUCKETS; slot++) {
      const i = this.index[slot] as number;
      // A bucket straddling the window's start counts only if most of it is inside.
      if (i > current || i < first || (i === first && (i + 0.5) * this.bucketMs < now - this.windowMs)) continue;
      t.requests += this.requests[slot] as number;
      t.prompt += this.prompt[slot] as number;
      t.completion += this.completion[slot] as number;
    }
    return t;
  }

  reset(): void {
    this.index.fill(-Infinity);
    this.requests.fill(0);
    this.prompt.fill(0);
    this.completion.fill(0);
  }
}
