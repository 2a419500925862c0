// Online least squares of y = a + b·x with exponential forgetting: each new sample multiplies the weight of
// every older one by `decay`, so the fit follows an engine whose speed drifts (load, a restart on other
// hardware) while a single outlier moves it only a little. Constant memory, O(1) per sample.

export interface LinearFit {
  /** Intercept. */
  a: number;
  /** Slope. */
  b: number;
  /** Effective number of samples behind the fit (the sum of their weights). */
  weight: number;
}

export class DecayingLinearFit {
  private sw = 0;
  private sx = 0;
  private sy = 0;
  private sxx = 0;
  private sxy = 0;

  /** `decay` in (0, 1]: the weight an older sample keeps per newer one (0.97 ≈ the last 33 samples). */
  constructor(private readonly decay = 0.97) {
    if (!(decay > 0 && decay <= 1)) throw new RangeError(`decay must be in (0, 1], got ${decay}`);
  }

  get weight(): number {
    return this.sw;
  }

  add(x: number, y: number, w = 1): void {
    if (!Number.isFinite(x) || !Number.isFinite(y) || !(w > 0)) return;
    const d = this.decay;
    this.sw = this.sw * d + w;
    this.sx = this.sx * d + w * x;
    this.sy = this.sy * d + w * y;
    this.sxx = this.sxx * d + w * x * x;
    this.sxy = this.sxy * d + w * x * y;
  }

  /**
   * The fit, with the slope kept within [minSlope, ∞) and the intercept non-negative. When the samples barely
   * vary in x the slope is not identifiable: `priorSlope` is used and only the intercept is fitted.
   */
  fit(priorSlope: number, minSlope = 0): LinearFit | undefined {
    const out: LinearFit = { a: 0, b: 0, weight: 0 };
    return this.fitInto(out, priorSlope, minSlope) ? out : undefined;
  }

  /** `fit` written into `out` (no allocation on the estimator's hot path); false, and `out` untouched, without samples. */
  fitInto(out: LinearFit, priorSlope: number, minSlope = 0): boolean {
    if (this.sw <= 0) return false;
    const mx = this.sx / this.sw;
    const my = this.sy / this.sw;
    const varX = this.sxx / this.sw - mx * mx;
    const cov = this.sxy / this.sw - mx * my;
    // Identifiable only when x spreads by more than a few percent of its mean (and at least by 1 unit).
    let b = varX > Math.max(1, (0.05 * mx) ** 2) && this.sw >= 3 ? cov / varX : priorSlope;
    b = Math.max(minSlope, b);
    let a = my - b * mx;
    if (a < 0) {
      // A negative intercept means the line through the mean is too steep for small x: pass through the origin.
      a = 0;
      b = Math.max(minSlope, this.sxx > 0 ? this.sxy / this.sxx : priorSlope);
    }
    out.a = a;
    out.b = b;
    out.weight = this.sw;
    return true;
  }
}
