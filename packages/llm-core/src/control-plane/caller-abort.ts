// Something a caller's abort signal aborts: an upstream call (executor/upstream-call.ts), a stream handed to its
// caller (manager/stream-cut.ts). It follows the signal with one listener, removed again when it is done with it,
// and aborts once, with the first reason. No AbortController or composed signal: making those per request costs
// tens of times as much, on the hot path.

export abstract class FollowsCallerAbort {
  aborted = false;
  reason: unknown = undefined;
  private onCallerAbort: (() => void) | undefined = undefined;

  constructor(private readonly caller: AbortSignal | undefined) {}

  /** Starts following the caller's signal (aborts at once if it already fired); called once the subclass is ready. */
  protected follow(): void {
    const caller = this.caller;
    if (!caller) return;
    if (caller.aborted) {
      this.abort(caller.reason);
      return;
    }
    this.onCallerAbort = () => this.abort(caller.reason);
    caller.addEventListener('abort', this.onCallerAbort, { once: true });
  }

  /** Aborts once: the first reason is kept and `aborting()` runs. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.aborting();
  }

  /** What aborting does to the work in flight. */
  protected abstract aborting(): void;

  /** No listener on the caller's signal outlives the work. */
  protected unfollow(): void {
    if (this.onCallerAbort) this.caller?.removeEventListener('abort', this.onCallerAbort);
    this.onCallerAbort = undefined;
  }
}
