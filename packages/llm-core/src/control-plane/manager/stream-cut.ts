// The cut of a stream handed to its caller: the caller going away (one listener on its signal) or shutdown (the
// runner cuts every open stream). The stream's wrapper is told through one callback, and an AbortSignal is made
// only when a failover leg's upstream call needs one: an AbortController per stream and a listener on its signal
// cost more, on the path to the first token, than the rare failover that uses them. `abort(reason)` cuts it, once.
import { FollowsCallerAbort } from '../caller-abort';

export class StreamCut extends FollowsCallerAbort {
  private onCut: (() => void) | undefined;
  private controller: AbortController | undefined;

  constructor(caller: AbortSignal | undefined, shutdown: AbortSignal) {
    super(caller);
    if (shutdown.aborted) this.abort(shutdown.reason);
    else this.follow();
  }

  /** The cut: the wrapper's callback runs and a failover leg's signal fires. */
  protected aborting(): void {
    this.controller?.abort(this.reason);
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
    this.unfollow();
  }
}
