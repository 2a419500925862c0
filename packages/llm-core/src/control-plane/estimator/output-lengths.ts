// The distribution of output lengths of one model, from the completion tokens the engines report. A request
// that stopped at its own max_tokens says only "at least this long" (censored): it counts as longer than any
// finished one, so the quantile errs long, never short, and an engine that always fills max_tokens (a
// simulator, or a model asked for more than it would say) is predicted to fill it.

const CAPACITY = 256;
/** The sorted view is rebuilt after this many new samples (or on first use). */
const RESORT_EVERY = 8;

export class OutputLengths {
  private readonly ring: number[] = [];
  private next = 0;
  /** The ring's values sorted (its first `sortedCount`), as of the last resort: a typed array sorts in place, natively. */
  private readonly sorted = new Float64Array(CAPACITY);
  private sortedCount = 0;
  private sinceSort = Infinity;

  get count(): number {
    return this.ring.length;
  }

  /** `limit`: the request's max_tokens, if it had one. */
  add(tokens: number, limit?: number): void {
    if (!Number.isFinite(tokens) || tokens < 0) return;
    const value = limit !== undefined && tokens >= limit ? Infinity : tokens;
    if (this.ring.length < CAPACITY) this.ring.push(value);
    else this.ring[this.next] = value;
    this.next = (this.next + 1) % CAPACITY;
    this.sinceSort += 1;
  }

  /** The q-quantile of output lengths bounded by `limit`; undefined before any sample. */
  quantile(q: number, limit: number): number | undefined {
    if (this.ring.length === 0) return undefined;
    if (this.sinceSort >= RESORT_EVERY) {
      const n = this.ring.length;
      this.sorted.set(this.ring);
      (n === CAPACITY ? this.sorted : this.sorted.subarray(0, n)).sort();
      this.sortedCount = n;
      this.sinceSort = 0;
    }
    const i = Math.min(this.sortedCount - 1, Math.max(0, Math.ceil(q * this.sortedCount) - 1));
    return Math.min(limit, this.sorted[i]!);
  }
}
