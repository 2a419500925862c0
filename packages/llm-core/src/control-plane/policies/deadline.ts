// Deadline feasibility shared by slo_aware and cost_optimized: is there any compatible instance (full or
// not, with this call's placements counted) on which the request is still predicted to finish in time?
import type { ExecutionInstance, RequestMetadata, SchedulingContext } from '../types';
import type { CapacityView } from './capacity';
import { meetsDeadline } from './policy-helpers';

export interface Feasibility {
  /** Some compatible instance meets the deadline (possibly one that is full right now). */
  feasible: boolean;
  /** Lowest estimate over the compatible instances, ms. */
  bestEstimateMs: number;
}

export function feasibility(ctx: SchedulingContext, cap: CapacityView, request: RequestMetadata, compat: readonly ExecutionInstance[]): Feasibility {
  let feasible = false;
  let bestEstimateMs = Infinity;
  for (const inst of compat) {
    const view = cap.view(inst);
    bestEstimateMs = Math.min(bestEstimateMs, ctx.estimator.estimate(request, view));
    if (!feasible && meetsDeadline(ctx, request, view)) feasible = true;
  }
  return { feasible, bestEstimateMs };
}
