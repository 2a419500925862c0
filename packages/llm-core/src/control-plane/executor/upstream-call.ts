// One upstream call's abort, handed to undici as its signal (undici takes an EventEmitter with `aborted` and
// `reason`): the caller's signal (one listener, removed when the call ends), the call's timeouts (plain timers) and
// a cut by the executor all abort it. An AbortController per call, let alone signals composed with AbortSignal.any
// and AbortSignal.timeout, costs tens of times as much to make, in time and in what the collector must sweep.
import { EventEmitter } from 'node:events';

export class UpstreamCall extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;
  /** Set when the call's own timeout fired (as opposed to the caller leaving or a cut). */
  timedOut = false;
  private timer?: NodeJS.Timeout;
  private onCallerAbort?: () => void;

  constructor(private readonly caller: AbortSignal | undefined) {
    super();
    if (!caller) return;
    if (caller.aborted) {
      this.abort(caller.reason);
      return;
    }
    this.onCallerAbort = () => this.abort(caller.reason);
    caller.addEventListener('abort', this.onCallerAbort, { once: true });
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }

  /** Aborts the call with a TimeoutError after `ms` unless it ends first. */
  timeout(ms: number, why: string): this {
    this.timer = setTimeout(() => this.expire(why), ms);
    // A timer must not keep the process alive on its own; end() clears it on every path anyway.
    this.timer.unref();
    return this;
  }

  /** One of the call's clocks ran out. */
  expire(why: string): void {
    this.timer = undefined;
    if (this.aborted) return;
    this.timedOut = true;
    this.abort(new DOMException(why, 'TimeoutError'));
  }

  /** The call is over: no timer or listener outlives it. */
  end(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.onCallerAbort) this.caller?.removeEventListener('abort', this.onCallerAbort);
    this.onCallerAbort = undefined;
  }
}
