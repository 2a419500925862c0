// The cut of a stream handed to its caller: the caller going away (one listener on its signal) or shutdown (the
// runner cuts every open stream). The stream's wrapper is told through one callback, and an AbortSignal is made
// only when a failover leg's upstream call needs one: an AbortController per stream and a listener on its signal
// cost more, on the path to the first token, than the rare failover that uses them.

export class StreamCut {
  aborted = false;
  reason: unknown = undefined;
  private onCut: (() => void) | undefined;
  private controller: AbortController | undefined;
  private onCallerAbort: (() => void) | undefined;

  constructor(
    private readonly caller: AbortSignal | undefined,
    shutdown: AbortSignal,
  ) {
    if (shutdown.aborted) this.cut(shutdown.reason);
    else if (caller?.aborted) this.cut(caller.reason);
    else if (caller) {
      this.onCallerAbort = () => this.cut(caller.reason);
      caller.addEventListener('abort', this.onCallerAbort, { once: true });
    }
  }

  /** Cuts the stream, once: the wrapper's callback runs and a failover leg's signal fires. */
  cut(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
    const fn = this.onCut;
    this.onCut = undefined;
    fn?.();
  }

  /** `fn` runs once when the stream is cut (at once when it already was). */
  whenCut(fn: () => void): void {
    if (this.aborted) fn();
    else this.onCut = fn;
  }

  /** A signal that fires with the cut, for the upstream call of a failover leg; made on first use. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** The stream ended: no listener or callback outlives it. */
  release(): void {
    this.onCut = undefined;
    if (this.onCallerAbort) this.caller?.removeEventListener('abort', this.onCallerAbort);
    this.onCallerAbort = undefined;
  }
}
