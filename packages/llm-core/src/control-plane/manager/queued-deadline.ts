// A queued request with a deadline: is it still predicted to make it, and when should that be asked again?
// Asked by a timer rather than only when a slot frees, so a request that can no longer meet its deadline is
// told so then — at the latest when the deadline passes — instead of when the instance ahead of it finishes.
// Feasibility is judged like the policies' (policies/policy-helpers meetsDeadline) over the healthy instances that
// serve it, full or not, plus the wait of the queued requests the policy serves before it (backlog.ts): as
// they are dispatched that wait shrinks and the next check finds more slack. Requests that overtake it later
// (a higher class, an earlier deadline) are counted at the next check, not at their arrival.
import { estimateBehindBacklog } from '../estimator';
import { absoluteDeadline, absoluteTtftDeadline } from '../policies';
import type { ExecutionInstance, LatencyEstimator, RequestMetadata } from '../types';

/** Slack below this is re-checked after this long, so an estimate hovering at zero cannot spin the timer. */
const MIN_RECHECK_MS = 5;

export interface DeadlineCheck {
  /** Some healthy serving instance is still predicted to meet the request's deadlines if it started now. */
  feasible: boolean;
  /** When to ask again if still queued: once the best instance's slack has run out, never past the deadline. */
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
export function checkQueuedDeadline(meta: RequestMetadata, instances: readonly ExecutionInstance[], estimator: LatencyEstimator, now: number, ahead = 0): DeadlineCheck | undefined {
  const dl = absoluteDeadline(meta);
  const ttftDl = absoluteTtftDeadline(meta);
  if (dl === undefined && ttftDl === undefined) return undefined;
  const leftMs = Math.min(dl ?? Infinity, ttftDl ?? Infinity) - now;
  // With no instance to judge by (all down for now), only the deadline itself can rule it out.
  let bestSlack = instances.length === 0 ? leftMs : -Infinity;
  let bestEstimateMs = Infinity;
  for (const e of estimateBehindBacklog(estimator, meta, instances, ahead)) {
    bestEstimateMs = Math.min(bestEstimateMs, e.totalMs);
    let slack = Infinity;
    if (dl !== undefined) slack = dl - (now + e.totalMs);
    // Without a breakdown the TTFT deadline is judged by the backlog and itself only, as meetsDeadline does.
    if (ttftDl !== undefined) slack = Math.min(slack, ttftDl - (now + (e.ttftMs ?? e.backlogMs)));
    bestSlack = Math.max(bestSlack, slack);
  }
  const feasible = leftMs > 0 && bestSlack >= 0;
  return { feasible, recheckInMs: Math.max(0, Math.min(leftMs, Math.max(bestSlack, MIN_RECHECK_MS))), bestEstimateMs, leftMs, ahead };
}
