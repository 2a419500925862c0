// One upstream call's abort: the caller's signal (one listener, removed when the call ends), the call's timeouts
// (a timer of its own, or one timer shared by the calls of one duration: call-deadlines.ts) and a cut by the executor
// all abort it. An AbortController per call, let alone signals composed
// with AbortSignal.any and AbortSignal.timeout, costs tens of times as much to make, in time and in what the
// collector must sweep. CallAbort is that state; JsonCall (json-call.ts) and StreamCall (stream-call.ts) act on it
// as the call's own dispatch handler.
import { FollowsCallerAbort } from '../caller-abort';
import type { WaitingCalls, WaitingLink } from './waiting-calls';
import type { CallDeadlines, DeadlineLink } from './call-deadlines';

export abstract class CallAbort extends FollowsCallerAbort implements WaitingLink, DeadlineLink {
  // The call's place among the calls waiting for its engine's answer (waiting-calls.ts).
  waitingIn: WaitingCalls | undefined = undefined;
  waitingPrev: WaitingLink | undefined = undefined;
  waitingNext: WaitingLink | undefined = undefined;
  // The call's place among the calls whose timeouts share one timer (call-deadlines.ts).
  deadlineIn: CallDeadlines | undefined = undefined;
  deadlinePrev: DeadlineLink | undefined = undefined;
  deadlineNext: DeadlineLink | undefined = undefined;
  deadline = 0;
  /** Set when the call's own timeout fired (as opposed to the caller leaving or a cut). */
  timedOut = false;
  private timer: NodeJS.Timeout | undefined = undefined;

  /** Aborts the call with a TimeoutError after `ms` unless it ends first. */
  timeout(ms: number, why: string): this {
    this.timer = setTimeout(() => this.expire(why), ms);
    // A timer must not keep the process alive on its own; end() clears it on every path anyway.
    this.timer.unref();
    return this;
  }

  /** Aborts the call with a TimeoutError once the duration of `deadlines` has passed, unless it ends first. */
  timeoutOn(deadlines: CallDeadlines): this {
    deadlines.add(this);
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
    this.deadlineIn?.remove(this);
    this.unfollow();
  }
}
