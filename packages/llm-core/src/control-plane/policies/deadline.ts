// Deadline feasibility shared by slo_aware and cost_optimized, through the one deadline judge
// (estimator/deadline-judge.ts) over every compatible instance, full or not, with this call's placements
// counted: which instances meet the deadline, and whether it cannot be met anywhere any more.
import { judgeDeadline, type DeadlineVerdict } from '../estimator/deadline-judge';
import type { ExecutionInstance, RequestMetadata, SchedulingContext } from '../types';
import type { CapacityView } from './capacity';

export interface Feasibility {
  /** Not 'cannot': some compatible instance (possibly one that is full right now) may still meet it. */
  feasible: boolean;
  verdict: DeadlineVerdict;
  /** Lowest estimate over the compatible instances, ms. */
  bestEstimateMs: number;
  /** Ids of the instances whose estimate meets every deadline. */
  meeting: Set<string>;
}

export function feasibility(ctx: SchedulingContext, cap: CapacityView, request: RequestMetadata, compat: readonly ExecutionInstance[]): Feasibility {
  const j = judgeDeadline(ctx.estimator, request, compat.map((i) => cap.view(i)), { now: ctx.now });
  const meeting = new Set(j.instances.filter((x) => x.verdict === 'meets').map((x) => x.instance.id));
  return { feasible: j.verdict !== 'cannot', verdict: j.verdict, bestEstimateMs: j.bestEstimateMs, meeting };
}
