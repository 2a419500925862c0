// How far the estimator's predictions were from what happened, per instance: the absolute percentage errors
// of predicted vs actual end-to-end and first-token times of dispatched requests (over the last 256, once the
// instance's first 50 — the estimator's warm-up while it calibrates — are behind it), and the spread of
// actual/predicted that gives the estimate its confidence band.

const WINDOW = 256;
/** Requests per instance before its errors are counted: the calibration's warm-up. */
export const ACCURACY_WARMUP = 50;

class Ring {
  private readonly values: number[] = [];
  private next = 0;
  total = 0;

  add(v: number): void {
    if (!Number.isFinite(v)) return;
    if (this.values.length < WINDOW) this.values.push(v);
    else this.values[this.next] = v;
    this.next = (this.next + 1) % WINDOW;
    this.total += 1;
  }

  get size(): number {
    return this.values.length;
  }

  quantile(q: number): number | undefined {
    if (this.values.length === 0) return undefined;
    const s = [...this.values].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  }
}

export interface AccuracySummary {
  /** Requests compared (since start). */
  samples: number;
  /** Median absolute percentage error of the end-to-end (dispatch to last byte) prediction, 0..∞, over the last 256 after the warm-up (null until then). */
  e2eMdape: number | null;
  /** The same for time to first token (streamed requests only). */
  ttftMdape: number | null;
  ttftSamples: number;
}

interface InstanceAccuracy {
  e2eApe: Ring;
  ttftApe: Ring;
  /** actual / predicted end-to-end. */
  ratio: Ring;
}

export class EstimatorAccuracy {
  private readonly byInstance = new Map<string, InstanceAccuracy>();
  private cache = new Map<string, { at: number; low: number; high: number; confidence: number }>();

  private of(id: string): InstanceAccuracy {
    let a = this.byInstance.get(id);
    if (!a) this.byInstance.set(id, (a = { e2eApe: new Ring(), ttftApe: new Ring(), ratio: new Ring() }));
    return a;
  }

  record(instanceId: string, predicted: { e2eMs: number; ttftMs: number }, actual: { e2eMs: number; ttftMs?: number }): void {
    if (!(actual.e2eMs > 0) || !(predicted.e2eMs > 0)) return;
    const a = this.of(instanceId);
    a.ratio.add(actual.e2eMs / predicted.e2eMs);
    if (a.ratio.total <= ACCURACY_WARMUP) return;
    a.e2eApe.add(Math.abs(predicted.e2eMs - actual.e2eMs) / actual.e2eMs);
    if (actual.ttftMs !== undefined && actual.ttftMs > 0 && predicted.ttftMs > 0) a.ttftApe.add(Math.abs(predicted.ttftMs - actual.ttftMs) / actual.ttftMs);
  }

  /**
   * actual/predicted at the (1−confidence) and confidence quantiles: how much faster or slower than estimated a
   * request on this instance turns out, at that confidence. `fallback` until enough requests were compared.
   */
  band(instanceId: string, confidence: number, fallback: { low: number; high: number }): { low: number; high: number } {
    const a = this.byInstance.get(instanceId);
    if (!a || a.ratio.size < 20) return fallback;
    const c = this.cache.get(instanceId);
    // Sorting 256 numbers per question would be waste: the band moves slowly, so it is refreshed every 16 samples.
    if (c && c.confidence === confidence && a.ratio.total - c.at < 16) return c;
    const low = a.ratio.quantile(1 - confidence) ?? fallback.low;
    const high = a.ratio.quantile(confidence) ?? fallback.high;
    const fresh = { at: a.ratio.total, low: Math.min(1, low), high: Math.max(1, high), confidence };
    this.cache.set(instanceId, fresh);
    return fresh;
  }

  summary(): Record<string, AccuracySummary> {
    const out: Record<string, AccuracySummary> = {};
    for (const [id, a] of this.byInstance) {
      const round = (v: number | undefined) => (v === undefined ? null : Math.round(v * 1000) / 1000);
      out[id] = { samples: a.ratio.total, e2eMdape: round(a.e2eApe.quantile(0.5)), ttftMdape: round(a.ttftApe.quantile(0.5)), ttftSamples: a.ttftApe.total };
    }
    return out;
  }

  forget(instanceId: string): void {
    this.byInstance.delete(instanceId);
    this.cache.delete(instanceId);
  }
}
