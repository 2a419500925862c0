// How long admitted requests really waited in the queue compared with the wait admission predicted for them.
// The wait budget bounds a high quantile of the waits of admitted requests (default p99 ≤ 2 s), and a wait
// predicted from service times runs short of the real one when the engine slows, work arrives in waves or
// urgent requests overtake: so admission scales its prediction by the recent p99 of actual/predicted before
// comparing it with the budget. Until enough admitted requests were dispatched it is 2: before the control
// plane has seen how the engines drain under this load (a storm's first burst), it is not confident.
import { IdList } from '../id-list';

const WINDOW = 256;
const MIN_SAMPLES = 32;
/** Predictions shorter than this are not scored: a ratio to nearly nothing says nothing. */
const MIN_PREDICTED_MS = 50;
const MAX_TRACKED = 100_000;
/** Bounds of the factor: a few waits far longer than predicted (a stall) must not shut admission for minutes. */
const MAX_FACTOR = 4;
const UNCALIBRATED_FACTOR = 2;

export class WaitCalibration {
  // Not a Map: one entry added and removed per admitted request (see id-list.ts).
  private readonly predicted = new IdList<number>();
  private readonly ratios: number[] = [];
  private next = 0;
  private added = 0;
  private cached: { at: number; factor: number } | undefined;

  constructor(private readonly quantile = 0.99) {}

  /** Admission predicted this wait for a request it admitted. */
  admitted(id: string, waitMs: number): void {
    if (!(waitMs >= MIN_PREDICTED_MS)) return;
    this.predicted.set(id, waitMs);
    this.predicted.keepNewest(MAX_TRACKED);
  }

  /** Whether any admitted request's prediction waits to be scored (else left() has nothing to do). */
  get tracking(): boolean {
    return this.predicted.size > 0;
  }

  /** The request left the queue after `waitedMs` (dispatched), or without being dispatched (waitedMs undefined). */
  left(id: string, waitedMs?: number): void {
    const p = this.predicted.take(id);
    if (p === undefined) return;
    if (waitedMs === undefined) return;
    const r = waitedMs / p;
    if (this.ratios.length < WINDOW) this.ratios.push(r);
    else this.ratios[this.next] = r;
    this.next = (this.next + 1) % WINDOW;
    this.added += 1;
  }

  /** Whether enough admitted requests were dispatched to score the predictions (32). */
  calibrated(): boolean {
    return this.ratios.length >= MIN_SAMPLES;
  }

  /** actual/predicted at the quantile, within [1, 4] (a prediction is never trusted to be pessimistic); 2 before 32 samples. */
  factor(): number {
    if (this.ratios.length < MIN_SAMPLES) return UNCALIBRATED_FACTOR;
    if (this.cached && this.added - this.cached.at < 16) return this.cached.factor;
    const s = [...this.ratios].sort((a, b) => a - b);
    const factor = Math.min(MAX_FACTOR, Math.max(1, s[Math.min(s.length - 1, Math.ceil(this.quantile * s.length) - 1)]!));
    this.cached = { at: this.added, factor };
    return factor;
  }
}
