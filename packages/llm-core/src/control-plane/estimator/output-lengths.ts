// The distribution of output lengths of one model, from the completion tokens the engines report. A request
// that stopped at its own max_tokens says only "at least this long" (censored): it counts as longer than any
// finished one, so the quantile errs long, never short, and an engine that always fills max_tokens (a
// simulator, or a model asked for more than it would say) is predicted to fill it.

const CAPACITY = 256;
/** The view quantiles read is brought up to date after this many new samples (or on first use). */
const RESORT_EVERY = 8;

/** Index of the first of `values[0, n)` (ascending) greater than `v`; with `orEqual`, the first not less than `v`. */
function bound(values: Float64Array, n: number, v: number, orEqual: boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const x = values[mid]!;
    if (x < v || (!orEqual && x === v)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class OutputLengths {
  private readonly ring: number[] = [];
  private next = 0;
  /**
   * The ring's values in ascending order, kept so at every sample: a new value is inserted and the one it replaces
   * removed (two binary searches and a move of the samples between their places), where sorting the whole ring again for every
   * view cost ~10 µs once samples varied.
   */
  private readonly live = new Float64Array(CAPACITY);
  /** What quantiles read: `live` as of the last refresh (its first `sortedCount`), as when it was sorted then. */
  private readonly sorted = new Float64Array(CAPACITY);
  private sortedCount = 0;
  private sinceSort = Infinity;

  get count(): number {
    return this.ring.length;
  }

  /** `limit`: the request's max_tokens, if it had one. */
  add(tokens: number, limit?: number): void {
    if (!Number.isFinite(tokens) || tokens < 0) return;
    // -0 is kept as 0: the binary searches do not tell them apart, and no estimate does.
    const value = limit !== undefined && tokens >= limit ? Infinity : tokens === 0 ? 0 : tokens;
    const live = this.live;
    const n = this.ring.length;
    if (n < CAPACITY) {
      this.ring.push(value);
      const at = bound(live, n, value, false);
      live.copyWithin(at + 1, at, n);
      live[at] = value;
    } else {
      // The value replaced leaves its place and the new one takes its own: only the samples between the two
      // places move, by one (none when the new value equals the old, as a steady length makes it).
      const old = this.ring[this.next]!;
      this.ring[this.next] = value;
      const from = bound(live, n, old, true);
      if (value > old) {
        const to = bound(live, n, value, true);
        live.copyWithin(from, from + 1, to);
        live[to - 1] = value;
      } else if (value < old) {
        const to = bound(live, n, value, false);
        live.copyWithin(to + 1, to, from);
        live[to] = value;
      }
    }
    this.next = (this.next + 1) % CAPACITY;
    this.sinceSort += 1;
  }

  /** The q-quantile of output lengths bounded by `limit`; undefined before any sample. */
  quantile(q: number, limit: number): number | undefined {
    if (this.ring.length === 0) return undefined;
    if (this.sinceSort >= RESORT_EVERY) {
      const n = this.ring.length;
      this.sorted.set(n === CAPACITY ? this.live : this.live.subarray(0, n));
      this.sortedCount = n;
      this.sinceSort = 0;
    }
    const i = Math.min(this.sortedCount - 1, Math.max(0, Math.ceil(q * this.sortedCount) - 1));
    return Math.min(limit, this.sorted[i]!);
  }
}
