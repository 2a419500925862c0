// The two clocks of a queued request: the queue-wait bound (refused with queue_timeout past maxQueueWaitMs, so
// a request whose only instance stays down is never left hanging) and, with a deadline, the watch that refuses
// it (deadline_infeasible, as at admission) as soon as no healthy instance is predicted to meet it behind the
// requests the policy serves first — at the latest when the deadline passes. Both are disarmed when the request
// leaves the queue and stop with the manager's timers at close.
import type { ExecutionInstance, LatencyEstimator, RequestMetadata } from '../types';
import { aheadPhrase } from './backlog';
import type { CancelTimer, DeferredTimers } from './deferred-timers';
import { RequestRejectedError } from './errors';
import type { PendingRequest } from './pending-request';
import { checkQueuedDeadline } from './queued-deadline';
import { retryAfterSec } from './admission';

/** What the watch asks of the manager that owns the queue. */
export interface QueueWatchHost {
  isQueued(p: PendingRequest): boolean;
  queueSize(): number;
  /** Healthy instances that serve the request. */
  healthyServing(meta: RequestMetadata): readonly ExecutionInstance[];
  /** Queued requests the policy serves before `meta` at `now` that compete with it for `serving`. */
  countAhead(meta: RequestMetadata, serving: readonly ExecutionInstance[], now: number): number;
  /** Takes the request out of the queue and fails its caller with this refusal. */
  refuse(p: PendingRequest, err: RequestRejectedError): void;
  /** Shadow mode: the refusal the watch would have made (the request stays queued). */
  note(p: PendingRequest, err: RequestRejectedError): void;
}

export interface QueueWatchOptions {
  timers: DeferredTimers;
  estimator: LatencyEstimator;
  /** 0 = no bound. */
  maxQueueWaitMs: number;
  /** False when the policy demotes late requests to best effort instead of refusing them. */
  rejectLate: boolean;
  /** Note hopeless requests instead of refusing them (shadow admission). */
  shadow?: boolean;
  /** Confidence of the deadline judge. */
  confidence?: number;
}

export class QueueWatch {
  /**
   * The queued requests whose wait bound is armed, in the order they were armed, linked through the requests
   * themselves (waitPrev/waitNext, with the bound in waitDue): every request gets the same bound, so they run out in
   * that order too, and one timer (for the first) serves them all — arming and disarming cost two links, not a
   * timer (nor a Map entry) per request. A request that leaves forgets its neighbours, so, as with RefList
   * (ref-list.ts), nothing gone keeps anything alive.
   */
  private waitHead: PendingRequest | undefined = undefined;
  private waitTail: PendingRequest | undefined = undefined;
  private waitTimer?: CancelTimer;
  /** When the armed timer fires (to know whether an earlier bound needs it moved). */
  private waitTimerAt = Infinity;

  constructor(
    private readonly host: QueueWatchHost,
    private readonly opts: QueueWatchOptions,
  ) {}

  /** The request (re-)entered the queue, at `now` (the caller's clock reading, when it has just made one). */
  arm(p: PendingRequest, now = Date.now()): void {
    this.disarm(p);
    if (this.opts.maxQueueWaitMs > 0) {
      const due = now + this.opts.maxQueueWaitMs;
      this.link(p, due);
      if (due < this.waitTimerAt) this.scheduleWaits(due);
    }
    this.watchDeadline(p);
  }

  /** The request left the queue (dispatched, failed, cancelled): none of its timers may fire. */
  disarm(p: PendingRequest): void {
    this.unlink(p);
    if (p.deadlineTimer) {
      p.deadlineTimer();
      p.deadlineTimer = undefined;
    }
  }

  /** Appends `p` (not armed) as the newest bound. */
  private link(p: PendingRequest, due: number): void {
    p.waitDue = due;
    p.waitPrev = this.waitTail;
    p.waitNext = undefined;
    if (this.waitTail) this.waitTail.waitNext = p;
    else this.waitHead = p;
    this.waitTail = p;
  }

  /** Takes `p`'s bound out (nothing if it has none), and `p` forgets its neighbours. */
  private unlink(p: PendingRequest): void {
    if (p.waitDue === undefined) return;
    const { waitPrev: prev, waitNext: next } = p;
    if (prev) prev.waitNext = next;
    else this.waitHead = next;
    if (next) next.waitPrev = prev;
    else this.waitTail = prev;
    p.waitDue = p.waitPrev = p.waitNext = undefined;
  }

  private scheduleWaits(at: number): void {
    this.waitTimer?.();
    this.waitTimerAt = at;
    this.waitTimer = this.opts.timers.later(() => this.expireWaits(), Math.max(0, at - Date.now()));
  }

  /** Refuses every request whose bound ran out, then waits for the next one's. */
  private expireWaits(): void {
    this.waitTimer = undefined;
    this.waitTimerAt = Infinity;
    const now = Date.now();
    const due: PendingRequest[] = [];
    let next = Infinity;
    for (let p = this.waitHead; p; p = p.waitNext) {
      const at = p.waitDue as number;
      if (at > now) {
        next = at;
        break;
      }
      due.push(p);
    }
    for (const p of due) this.expire(p);
    // Refusing may have armed nothing new: look again for the first bound still waiting.
    if (next === Infinity) for (let p = this.waitHead; p; p = p.waitNext) next = Math.min(next, p.waitDue as number);
    if (next < Infinity && next < this.waitTimerAt) this.scheduleWaits(next);
  }

  private expire(p: PendingRequest): void {
    this.unlink(p);
    if (!this.host.isQueued(p)) return;
    const waited = Date.now() - (p.meta.timestamps.queued ?? p.meta.timestamps.arrival);
    this.host.refuse(p, new RequestRejectedError('queue_timeout', `no instance could take the request within ${waited} ms of queueing`, p.meta.id, 5));
  }

  /** Checks now, then again when the slack runs out (re-armed if the estimate improved meanwhile). */
  private watchDeadline(p: PendingRequest): void {
    if (p.deadlineTimer) {
      p.deadlineTimer();
      p.deadlineTimer = undefined;
    }
    // The cheap questions first: most requests have no deadline, and then whether it is queued does not matter.
    if (!this.opts.rejectLate || (p.meta.sloDeadlineMs === undefined && p.meta.ttftDeadlineMs === undefined)) return;
    if (!this.host.isQueued(p)) return;
    const healthy = this.host.healthyServing(p.meta);
    const now = Date.now();
    const check = checkQueuedDeadline(p.meta, healthy, this.opts.estimator, now, this.host.countAhead(p.meta, healthy, now), this.opts.confidence);
    if (!check) return;
    if (!check.feasible) {
      const best = Number.isFinite(check.bestEstimateMs) ? `best estimate ${Math.round(check.bestEstimateMs)} ms with ${aheadPhrase(check.ahead)}` : 'no healthy instance';
      const why = check.leftMs <= 0 ? `deadline passed ${Math.round(-check.leftMs)} ms ago while queued` : `deadline cannot be met while queued: ${Math.round(check.leftMs)} ms left, ${best}`;
      const err = new RequestRejectedError('deadline_infeasible', why, p.meta.id, retryAfterSec(healthy, this.host.queueSize()));
      if (this.opts.shadow) this.host.note(p, err);
      else this.host.refuse(p, err);
      return;
    }
    p.deadlineTimer = this.opts.timers.later(() => {
      p.deadlineTimer = undefined;
      this.watchDeadline(p);
    }, check.recheckInMs);
  }
}
