// One upstream call's abort: a single AbortController, aborted by whichever comes first of the caller's signal (one
// listener, removed when the call ends), the call's timeout (a plain timer) or a cut by the executor. Composing
// signals instead (AbortSignal.any, AbortSignal.timeout) costs several times as much per request, in allocation
// and in the weak references the runtime keeps for them.
export class UpstreamCall {
  readonly controller: AbortController;
  /** Set when the call's own timeout fired (as opposed to the caller leaving or a cut). */
  timedOut = false;
  private timer?: NodeJS.Timeout;
  private readonly onCallerAbort?: () => void;

  constructor(
    private readonly caller: AbortSignal | undefined,
    controller?: AbortController,
  ) {
    this.controller = controller ?? new AbortController();
    if (!caller) return;
    if (caller.aborted) {
      this.controller.abort(caller.reason);
      return;
    }
    const ctl = this.controller;
    this.onCallerAbort = () => ctl.abort(caller.reason);
    caller.addEventListener('abort', this.onCallerAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Aborts the call with a TimeoutError after `ms` unless it ends first. */
  timeout(ms: number, why: string): this {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timedOut = true;
      this.controller.abort(new DOMException(why, 'TimeoutError'));
    }, ms);
    // A timer must not keep the process alive on its own; end() clears it on every path anyway.
    this.timer.unref();
    return this;
  }

  cut(reason: unknown): void {
    this.controller.abort(reason);
  }

  /** The call is over: no timer or listener outlives it. */
  end(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.onCallerAbort) this.caller?.removeEventListener('abort', this.onCallerAbort);
  }
}
