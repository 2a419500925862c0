// The request timeouts of calls that share one duration (the executor's default, which nearly every call has): one
// Node timer for all of them rather than a timer object, a closure and two timer-list updates per call. The calls
// wait in a list linked through themselves, oldest (so earliest deadline) first; the one timer is armed for the
// oldest's deadline and, when it fires, expires every call whose deadline has passed and is armed again for the next.
// A call that ends leaves the list and the timer stays as it is: firing early for a call already gone only re-arms.
// Deadlines are read on a monotonic clock and a call never expires before its full duration has passed, as with a
// timer of its own.
import { performance } from 'node:perf_hooks';

/** A call as the list links it: the fields belong to the list that holds the call. */
export interface DeadlineLink {
  deadlineIn: CallDeadlines | undefined;
  deadlinePrev: DeadlineLink | undefined;
  deadlineNext: DeadlineLink | undefined;
  /** When the call's time runs out (performance.now()). */
  deadline: number;
  /** The call's time ran out. */
  expire(why: string): void;
}

/** Node's largest timer delay: beyond it (or under 1 ms) a timer of its own per call keeps Node's own behaviour. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class CallDeadlines {
  private head: DeadlineLink | undefined = undefined;
  private tail: DeadlineLink | undefined = undefined;
  private timer: NodeJS.Timeout | undefined = undefined;
  private readonly fire = (): void => this.expireDue();

  /** Whether `ms` is a duration the list can keep (a whole number of ms Node's timers take as they are). */
  static fits(ms: number): boolean {
    return Number.isInteger(ms) && ms >= 1 && ms <= MAX_TIMER_MS;
  }

  /** `ms` as CallDeadlines.fits() allows; `why` the message of the TimeoutError a call expires with. */
  constructor(
    readonly ms: number,
    private readonly why: string,
  ) {}

  /** The call's time starts now; it expires after `ms` unless it leaves first. */
  add(call: DeadlineLink): void {
    if (call.deadlineIn) return;
    call.deadline = performance.now() + this.ms;
    call.deadlineIn = this;
    call.deadlinePrev = this.tail;
    call.deadlineNext = undefined;
    if (this.tail) this.tail.deadlineNext = call;
    else this.head = call;
    this.tail = call;
    if (!this.timer) this.arm(this.ms);
  }

  /** The call is over (or expired): it leaves the list. */
  remove(call: DeadlineLink): void {
    if (call.deadlineIn !== this) return;
    const prev = call.deadlinePrev;
    const next = call.deadlineNext;
    if (prev) prev.deadlineNext = next;
    else this.head = next;
    if (next) next.deadlinePrev = prev;
    else this.tail = prev;
    call.deadlineIn = call.deadlinePrev = call.deadlineNext = undefined;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(this.fire, ms);
    // The timer must not keep the process alive on its own (as no call's own timer did).
    this.timer.unref();
  }

  private expireDue(): void {
    this.timer = undefined;
    const now = performance.now();
    try {
      for (let call = this.head; call && call.deadline <= now; call = this.head) {
        this.remove(call);
        call.expire(this.why);
      }
    } finally {
      // Whole ms, rounded up: the timer never fires before the next deadline (and, should one call's expiry have
      // thrown, the calls after it still expire).
      if (this.head && !this.timer) this.arm(Math.max(1, Math.ceil(this.head.deadline - now)));
    }
  }
}
