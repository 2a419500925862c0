// The two clocks of a streamed call: the request timeout until the first chunk (time to first token), then
// an idle timeout that runs only while the engine owes the next chunk — never over the total length, and
// never while the consumer holds a chunk. Either one firing aborts `signal` with a TimeoutError.
export class StreamTimeouts {
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private fired = false;

  /** `ctl`: the controller to abort (the call's own, so that one signal serves the whole call). */
  constructor(
    firstChunkMs: number,
    private readonly idleMs: number,
    private readonly ctl = new AbortController(),
  ) {
    this.arm(firstChunkMs, `no first chunk within ${firstChunkMs} ms`);
  }

  /** Whether one of the clocks ran out (rather than something else aborting the controller). */
  get timedOut(): boolean {
    return this.fired;
  }

  /** Aborts when a timeout fires; combine it with the caller's signal for the upstream request. */
  get signal(): AbortSignal {
    return this.ctl.signal;
  }

  /** A chunk arrived: the clock stops (the first-chunk bound is then over for good). */
  pause(): void {
    this.clear();
  }

  /** The next chunk is awaited: the idle clock starts (0 = no idle bound). */
  awaitNext(): void {
    if (this.idleMs > 0) this.arm(this.idleMs, `no chunk for ${this.idleMs} ms`);
  }

  /** The stream is over: no clock runs again. */
  stop(): void {
    this.stopped = true;
    this.clear();
  }

  private arm(ms: number, why: string): void {
    this.clear();
    if (this.stopped || this.ctl.signal.aborted) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.fired = true;
      this.ctl.abort(new DOMException(`stream timed out: ${why}`, 'TimeoutError'));
    }, ms);
    // A timer must not keep the process alive on its own; stop() clears it on every path anyway.
    this.timer.unref();
  }

  private clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
