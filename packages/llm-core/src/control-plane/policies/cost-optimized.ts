// cost_optimized: arrival order; each request goes to the cheapest instance (costPerHour; unpriced instances
// count as free, e.g. local engines) that is still predicted to meet its deadline; without a deadline, the
// cheapest with a free slot. A cheaper instance that would miss the deadline is skipped. When no compatible
// instance can meet the deadline any more, the request is rejected or demoted as in slo_aware.
import { loadRatio } from '../routing/load';
import type { ExecutionInstance, PolicyResult, RequestMetadata, SchedulingContext, SchedulingPolicy } from '../types';
import { CapacityView } from './capacity';
import { ARRIVAL_DISCIPLINE, type QueueDiscipline } from './discipline';
import { admitted } from './admission';
import { byArrival, decide, sortedBy, type BasePolicyOptions, type InfeasibleAction } from './policy-helpers';

export interface CostOptimizedOptions extends BasePolicyOptions {
  /** What happens to a request that can no longer meet its deadline (default 'reject'). */
  onInfeasible?: InfeasibleAction;
}

const price = (i: ExecutionInstance) => i.costPerHour ?? 0;

export class CostOptimizedPolicy implements SchedulingPolicy {
  readonly name = 'cost_optimized';
  private readonly onInfeasible: InfeasibleAction;

  constructor(private readonly options: CostOptimizedOptions = {}) {
    this.onInfeasible = options.onInfeasible ?? 'reject';
  }

  /** Cheapest first; equal prices by lower estimate, then load, then id. */
  private cheapest(ctx: SchedulingContext, request: RequestMetadata, candidates: readonly ExecutionInstance[]): ExecutionInstance | undefined {
    return sortedBy(
      candidates,
      (a, b) =>
        price(a) - price(b) ||
        ctx.estimator.estimate(request, a) - ctx.estimator.estimate(request, b) ||
        loadRatio(a) - loadRatio(b) ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    )[0];
  }

  discipline(): QueueDiscipline {
    return ARRIVAL_DISCIPLINE;
  }

  /** Arrival order: price decides where a request goes, not when. */
  order(queue: readonly RequestMetadata[]): RequestMetadata[] {
    return sortedBy(queue, byArrival);
  }

  schedule(queue: readonly RequestMetadata[], ctx: SchedulingContext): PolicyResult {
    const result: PolicyResult = { decisions: [], rejections: [] };
    const cap = new CapacityView(ctx.instances);
    for (const { request, available, holdToDeadline, demoted, meeting } of admitted(this.order(queue), ctx, cap, this.options, this.onInfeasible, result.rejections)) {
      const pool = holdToDeadline ? available.filter((inst) => meeting?.has(inst.id)) : available;
      const instance = this.cheapest(ctx, request, pool);
      if (!instance) continue; // only a busy instance can meet the deadline: wait for it
      cap.take(instance.id);
      const skipped = available.filter((i) => price(i) < price(instance)).length;
      const why = holdToDeadline
        ? `cheapest instance predicted to meet the deadline (${price(instance)}/h${skipped ? `; ${skipped} cheaper would miss it` : ''})`
        : `cheapest instance with capacity (${price(instance)}/h)${demoted ? '; deadline infeasible, demoted' : ''}`;
      result.decisions.push(decide(ctx, request, instance, this.name, `cost_optimized: ${why}`));
    }
    return result;
  }
}
