// Unref'd one-shot timers that all stop at close: the background work (health probes, metrics polls, queue-wait
// bounds and deadline checks of queued requests) must neither keep the process alive nor fire after shutdown.
export type CancelTimer = () => void;

export class DeferredTimers {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  get closed(): boolean {
    return this.stopped;
  }

  /** Runs `fn` once after `ms`; the returned function cancels it (a no-op once it ran or the timers closed). */
  later(fn: () => void, ms: number): CancelTimer {
    if (this.stopped) return () => undefined;
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.timers.add(t);
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
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
