// A queued request with a deadline: is it still possibly in time, and when should that be asked again?
// Asked by a timer rather than only when a slot frees, so a request that can no longer meet its deadline is
// told so then — at the latest when the deadline passes — instead of when the instance ahead of it finishes.
// The verdict is the deadline judge's (estimator/deadline-judge.ts, the same as admission and the policies)
// over the healthy instances that serve it, full or not, behind the queued requests the policy serves before
// it (backlog.ts): as they are dispatched that wait shrinks and the next check finds more slack. Requests that
// overtake it later (a higher class, an earlier deadline) are counted at the next check, not at their arrival.
import { judgeDeadline } from '../estimator';
import type { ExecutionInstance, LatencyEstimator, RequestMetadata } from '../types';

/** Slack below this is re-checked after this long, so an estimate hovering at zero cannot spin the timer. */
const MIN_RECHECK_MS = 5;

export interface DeadlineCheck {
  /** Not 'cannot': some healthy serving instance may still meet the request's deadlines if it started now. */
  feasible: boolean;
  /** When to ask again if still queued: once the best optimistic slack has run out, never past the deadline. */
  recheckInMs: number;
  /** Lowest estimate over those instances, backlog included (Infinity when there are none). */
  bestEstimateMs: number;
  /** Until the earlier of the end-to-end and TTFT deadlines. */
  leftMs: number;
  /** Queued requests counted ahead of it. */
  ahead: number;
}

/**
 * Undefined for a request without a deadline: nothing to watch. `ahead`: the queued requests the policy serves
 * before this one that compete with it for `instances`.
 */
export function checkQueuedDeadline(meta: RequestMetadata, instances: readonly ExecutionInstance[], estimator: LatencyEstimator, now: number, ahead = 0, confidence?: number): DeadlineCheck | undefined {
  const j = judgeDeadline(estimator, meta, instances, { now, ahead, confidence });
  if (j.verdict === 'none') return undefined;
  const feasible = j.verdict !== 'cannot';
  return { feasible, recheckInMs: Math.max(0, Math.min(j.leftMs, Math.max(j.optimisticSlackMs, MIN_RECHECK_MS))), bestEstimateMs: j.bestEstimateMs, leftMs: j.leftMs, ahead: j.ahead };
}
