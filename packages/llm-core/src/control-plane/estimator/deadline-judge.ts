// The one judge of deadlines. Admission, the watch on queued requests and the deadline-aware policies all
// ask it, so a request is never admitted by one rule and refused by another. For each instance it compares
// the request's end-to-end and first-token deadlines (x-sage-slo-ms, x-sage-ttft-ms) with the estimate behind
// the queue ahead of it, at one notion of confidence: the estimate scaled by how much faster than predicted
// requests on that instance have turned out at that confidence (the learning estimator's error band; a fixed
// band of 2× before it has data or for an estimator that keeps no score).
//   meets   the estimate itself is within every deadline on some instance
//   at_risk only the optimistic bound is: it may still make it, so it is served (goodput first)
//   cannot  not even the optimistic bound is, or the deadline has passed: refusing it loses nothing
import type { ExecutionInstance, LatencyEstimator, RequestMetadata } from '../types';
import { estimateBehindBacklog, type BacklogEstimate } from './backlog';
import { isLearningEstimator } from './learned-estimator';

export type DeadlineVerdict = 'none' | 'meets' | 'at_risk' | 'cannot';

/**
 * Confidence used when none is given: an optimistic bound that 98 % of requests do not beat. The watch refuses a
 * queued request the moment its optimistic slack runs out, right on that bound, where about 1 − confidence of
 * such requests would still have made it: the confidence is the false-refusal rate of those refusals (at 0.9,
 * 4 of 108 would-be refusals made it in the scoreboard's shadow run).
 */
export const DEFAULT_DEADLINE_CONFIDENCE = 0.98;
const FIXED_BAND = { low: 0.5, high: 2 };

export interface InstanceJudgement {
  instance: ExecutionInstance;
  verdict: Exclude<DeadlineVerdict, 'none'>;
  /** Time left after the estimate (the tighter of the two deadlines), ms; negative when late. */
  slackMs: number;
  /** The same for the optimistic bound. */
  optimisticSlackMs: number;
  estimate: BacklogEstimate;
}

export interface DeadlineJudgement {
  verdict: DeadlineVerdict;
  /** Until the earlier of the end-to-end and TTFT deadlines, ms (Infinity without one). */
  leftMs: number;
  /** Lowest end-to-end estimate over the instances, backlog included (Infinity when there are none). */
  bestEstimateMs: number;
  /** Queued requests counted ahead of it. */
  ahead: number;
  /** Largest optimistic slack over the instances: when it runs out the verdict turns to cannot. */
  optimisticSlackMs: number;
  /** Per instance, in the order given. */
  instances: InstanceJudgement[];
}

export interface JudgeOptions {
  now: number;
  /** Queued requests the policy serves first that compete for these instances. */
  ahead?: number;
  confidence?: number;
}

export function hasDeadline(request: RequestMetadata): boolean {
  return request.sloDeadlineMs !== undefined || request.ttftDeadlineMs !== undefined;
}

/** actual/predicted band of `instance` at `confidence`. */
export function errorBand(estimator: LatencyEstimator, instanceId: string, confidence = DEFAULT_DEADLINE_CONFIDENCE): { low: number; high: number } {
  return isLearningEstimator(estimator) ? estimator.errorBand(instanceId, confidence) : FIXED_BAND;
}

/** Judges `request`'s deadlines on each of `instances` (full or not) behind `ahead` queued requests. */
export function judgeDeadline(estimator: LatencyEstimator, request: RequestMetadata, instances: readonly ExecutionInstance[], options: JudgeOptions): DeadlineJudgement {
  const { now, ahead = 0, confidence = DEFAULT_DEADLINE_CONFIDENCE } = options;
  const dl = request.sloDeadlineMs === undefined ? undefined : request.timestamps.arrival + request.sloDeadlineMs;
  const ttftDl = request.ttftDeadlineMs === undefined ? undefined : request.timestamps.arrival + request.ttftDeadlineMs;
  const leftMs = Math.min(dl ?? Infinity, ttftDl ?? Infinity) - now;
  if (dl === undefined && ttftDl === undefined) {
    return { verdict: 'none', leftMs, bestEstimateMs: NaN, ahead, optimisticSlackMs: Infinity, instances: [] };
  }
  const judged: InstanceJudgement[] = [];
  let bestEstimateMs = Infinity;
  let best = -Infinity;
  let bestOptimistic = -Infinity;
  for (const e of estimateBehindBacklog(estimator, request, instances, ahead)) {
    const low = errorBand(estimator, e.instance.id, confidence).low;
    // Without a breakdown the first token is judged by the backlog alone (the service time is not split).
    const ttft = e.ttftMs ?? e.backlogMs;
    const slackOf = (factor: number) => Math.min(dl === undefined ? Infinity : dl - (now + e.totalMs * factor), ttftDl === undefined ? Infinity : ttftDl - (now + ttft * factor));
    const slackMs = slackOf(1);
    const optimisticSlackMs = slackOf(low);
    const verdict = leftMs <= 0 || optimisticSlackMs < 0 ? 'cannot' : slackMs >= 0 ? 'meets' : 'at_risk';
    judged.push({ instance: e.instance, verdict, slackMs, optimisticSlackMs, estimate: e });
    bestEstimateMs = Math.min(bestEstimateMs, e.totalMs);
    best = Math.max(best, slackMs);
    bestOptimistic = Math.max(bestOptimistic, optimisticSlackMs);
  }
  let verdict: DeadlineVerdict;
  if (leftMs <= 0) verdict = 'cannot';
  else if (judged.length === 0) verdict = 'at_risk'; // nothing to judge by (all down for now): only the deadline itself rules it out
  else verdict = best >= 0 ? 'meets' : bestOptimistic >= 0 ? 'at_risk' : 'cannot';
  return { verdict, leftMs, bestEstimateMs, ahead, optimisticSlackMs: judged.length === 0 ? leftMs : bestOptimistic, instances: judged };
}
