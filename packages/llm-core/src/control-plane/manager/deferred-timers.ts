// Unref'd one-shot timers that all stop at close: the background work (health probes, metrics polls, queue-wait
// bounds and deadline checks of queued requests) must neither keep the process alive nor fire after shutdown.
import { RefList } from '../ref-list';

export type CancelTimer = () => void;

const NOTHING: CancelTimer = () => undefined;

export class DeferredTimers {
  // A RefList, not a Set: a timer is added and removed per queued request (the queue-wait bound is set again each
  // time the queue fills from empty), and a Set passed through like that keeps its replaced tables, and the
  // timers and callbacks they still hold, alive through young collections (see ref-list.ts).
  private readonly timers = new RefList<NodeJS.Timeout>();
  private stopped = false;

  get closed(): boolean {
    return this.stopped;
  }

  /** Runs `fn` once after `ms`; the returned function cancels it (a no-op once it ran or the timers closed). */
  later(fn: () => void, ms: number): CancelTimer {
    if (this.stopped) return NOTHING;
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.timers.set(t, true);
    return () => {
      if (this.timers.delete(t)) clearTimeout(t);
    };
  }

  /** Timers still waiting to fire (for tests and leak checks). */
  get pending(): number {
    return this.timers.size;
  }

  close(): void {
    this.stopped = true;
    this.timers.walk((t) => clearTimeout(t));
    this.timers.clear();
  }
}
