// The two clocks of a queued request: the queue-wait bound (refused with queue_timeout past maxQueueWaitMs, so
// a request whose only instance stays down is never left hanging) and, with a deadline, the watch that refuses
// it (deadline_infeasible, as at admission) as soon as no healthy instance is predicted to meet it behind the
// requests the policy serves first — at the latest when the deadline passes. Both are disarmed when the request
// leaves the queue and stop with the manager's timers at close.
import type { ExecutionInstance, LatencyEstimator, RequestMetadata } from '../types';
import { aheadPhrase } from './backlog';
import { RefList } from '../ref-list';
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
  /** Queued requests the policy serves before `meta` that compete with it for `serving`. */
  countAhead(meta: RequestMetadata, serving: readonly ExecutionInstance[]): number;
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
   * When each queued request's wait bound runs out, in the order they were armed: every request gets the same
   * bound, so they run out in that order too, and one timer (for the first) serves them all — arming and disarming
   * cost an entry, not a timer per request. A RefList, not a Map: every request passes through it (ref-list.ts).
   */
  private readonly waits = new RefList<PendingRequest, number>();
  private waitTimer?: CancelTimer;
  /** When the armed timer fires (to know whether an earlier bound needs it moved). */
  private waitTimerAt = Infinity;

  constructor(
    private readonly host: QueueWatchHost,
    private readonly opts: QueueWatchOptions,
  ) {}

  /** The request (re-)entered the queue. */
  arm(p: PendingRequest): void {
    this.disarm(p);
    if (this.opts.maxQueueWaitMs > 0) {
      const due = Date.now() + this.opts.maxQueueWaitMs;
      this.waits.set(p, due);
      if (due < this.waitTimerAt) this.scheduleWaits(due);
    }
    this.watchDeadline(p);
  }

  /** The request left the queue (dispatched, failed, cancelled): none of its timers may fire. */
  disarm(p: PendingRequest): void {
    this.waits.delete(p);
    p.deadlineTimer?.();
    p.deadlineTimer = undefined;
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
    this.waits.walk((p, at) => {
      if (at > now) {
        next = at;
        return false;
      }
      due.push(p);
      return true;
    });
    for (const p of due) this.expire(p);
    // Refusing may have armed nothing new: look again for the first bound still waiting.
    if (next === Infinity) this.waits.walk((_, at) => void (next = Math.min(next, at)));
    if (next < Infinity && next < this.waitTimerAt) this.scheduleWaits(next);
  }

  private expire(p: PendingRequest): void {
    this.waits.delete(p);
    if (!this.host.isQueued(p)) return;
    const waited = Date.now() - (p.meta.timestamps.queued ?? p.meta.timestamps.arrival);
    this.host.refuse(p, new RequestRejectedError('queue_timeout', `no instance could take the request within ${waited} ms of queueing`, p.meta.id, 5));
  }

  /** Checks now, then again when the slack runs out (re-armed if the estimate improved meanwhile). */
  private watchDeadline(p: PendingRequest): void {
    p.deadlineTimer?.();
    p.deadlineTimer = undefined;
    if (!this.opts.rejectLate || !this.host.isQueued(p)) return;
    if (p.meta.sloDeadlineMs === undefined && p.meta.ttftDeadlineMs === undefined) return;
    const healthy = this.host.healthyServing(p.meta);
    const check = checkQueuedDeadline(p.meta, healthy, this.opts.estimator, Date.now(), this.host.countAhead(p.meta, healthy), this.opts.confidence);
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
