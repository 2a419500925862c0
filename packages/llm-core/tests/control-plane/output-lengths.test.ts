// Output lengths kept sorted sample by sample, against the rule read directly: the view a quantile reads is the
// ring's samples sorted as of the first read after every 8 new ones (the estimates made between two refreshes
// read the same view), whatever mix of samples, censored ones and reads arrives.
import { OutputLengths } from '../../src/control-plane/estimator/output-lengths';
import { mulberry32 } from './policies-fixtures';

/** The rule read directly: a plain list of the last 256 samples, sorted anew at each refresh. */
class Oracle {
  private readonly ring: number[] = [];
  private next = 0;
  private view: number[] = [];
  private since = Infinity;

  add(tokens: number, limit?: number): void {
    if (!Number.isFinite(tokens) || tokens < 0) return;
    const value = limit !== undefined && tokens >= limit ? Infinity : tokens;
    if (this.ring.length < 256) this.ring.push(value);
    else this.ring[this.next] = value;
    this.next = (this.next + 1) % 256;
    this.since += 1;
  }

  quantile(q: number, limit: number): number | undefined {
    if (this.ring.length === 0) return undefined;
    if (this.since >= 8) {
      this.view = [...this.ring].sort((a, b) => a - b);
      this.since = 0;
    }
    const i = Math.min(this.view.length - 1, Math.max(0, Math.ceil(q * this.view.length) - 1));
    return Math.min(limit, this.view[i]!);
  }
}

describe('OutputLengths', () => {
  it.each([1, 2, 3, 4, 5])('reads the quantiles the sorted ring gives on random traffic (seed %i)', (seed) => {
    const r = mulberry32(seed);
    const mine = new OutputLengths();
    const oracle = new Oracle();
    for (let k = 0; k < 5000; k++) {
      if (r() < 0.5) {
        // Repeated lengths, zeros, censored samples (at max_tokens) and invalid ones all occur.
        const tokens = r() < 0.05 ? -1 : r() < 0.1 ? 0 : Math.floor(r() * (r() < 0.5 ? 8 : 600));
        const limit = r() < 0.3 ? undefined : 1 + Math.floor(r() * 500);
        mine.add(tokens, limit);
        oracle.add(tokens, limit);
      } else {
        const q = [0.01, 0.5, 0.9, 0.99, 1][Math.floor(r() * 5)]!;
        const limit = r() < 0.5 ? 10_000 : 1 + Math.floor(r() * 400);
        expect(mine.quantile(q, limit)).toBe(oracle.quantile(q, limit));
      }
    }
    expect(mine.count).toBe(256);
  });

  it('has no quantile before a sample, and a censored sample reads as its request limit', () => {
    const o = new OutputLengths();
    expect(o.quantile(0.5, 100)).toBeUndefined();
    o.add(64, 64);
    expect(o.quantile(0.5, 100)).toBe(100);
    expect(o.quantile(0.5, 32)).toBe(32);
  });
});
