// slo_aware: earliest deadline first. A request with a deadline is placed on the available instance with the
// lowest estimate among those predicted to meet it; if only a full instance could meet it, it waits; if no
// compatible instance can meet it any more, it is rejected at once (deadline_infeasible, with Retry-After)
// or demoted to best effort, by configuration. Requests without a deadline are ordered as if they had
// `bestEffortDeadlineMs`, so they are served after urgent work but never starve.
import type { PolicyResult, RequestMetadata, SchedulingContext, SchedulingPolicy } from '../types';
import { hasDeadline } from '../estimator/deadline-judge';
import { CapacityView } from './capacity';
import type { QueueDiscipline } from './discipline';
import { admitted } from './admission';
import {
  absoluteDeadline,
  absoluteTtftDeadline,
  decide,
  fastest,
  routeAmong,
  sortedBy,
  type BasePolicyOptions,
  type InfeasibleAction,
} from './policy-helpers';

export interface SloAwareOptions extends BasePolicyOptions {
  /** What happens to a request that can no longer meet its deadline (default 'reject'). */
  onInfeasible?: InfeasibleAction;
  /** Ordering deadline for requests without one, relative to arrival (default 60,000 ms). */
  bestEffortDeadlineMs?: number;
}

export class SloAwarePolicy implements SchedulingPolicy {
  readonly name = 'slo_aware';
  private readonly onInfeasible: InfeasibleAction;
  private readonly bestEffortMs: number;
  private readonly stated: QueueDiscipline;

  constructor(private readonly options: SloAwareOptions = {}) {
    this.onInfeasible = options.onInfeasible ?? 'reject';
    this.bestEffortMs = options.bestEffortDeadlineMs ?? 60_000;
    this.stated = Object.freeze({ order: Object.freeze({ kind: 'deadline' as const, bestEffortMs: this.bestEffortMs }), embeddings: 'mixed' as const });
  }

  discipline(): QueueDiscipline {
    return this.stated;
  }

  /** EDF order key: the earlier of the end-to-end and TTFT deadlines, or the best-effort horizon. */
  orderingDeadline(request: RequestMetadata): number {
    const dls = [absoluteDeadline(request), absoluteTtftDeadline(request)].filter((d): d is number => d !== undefined);
    return dls.length > 0 ? Math.min(...dls) : request.timestamps.arrival + this.bestEffortMs;
  }

  /** Earliest ordering deadline first, arrival order among equals. */
  order(queue: readonly RequestMetadata[]): RequestMetadata[] {
    return sortedBy(queue, (a, b) => this.orderingDeadline(a) - this.orderingDeadline(b) || a.timestamps.arrival - b.timestamps.arrival);
  }

  schedule(queue: readonly RequestMetadata[], ctx: SchedulingContext): PolicyResult {
    const result: PolicyResult = { decisions: [], rejections: [] };
    const cap = new CapacityView(ctx.instances);
    for (const { request, available, holdToDeadline, demoted, meeting } of admitted(this.order(queue), ctx, cap, this.options, this.onInfeasible, result.rejections)) {
      if (holdToDeadline) {
        const instance = fastest(ctx, request, available.filter((inst) => meeting?.has(inst.id)));
        if (!instance) continue; // only a busy instance can make it: wait for it
        cap.take(instance.id);
        const left = Math.round(this.orderingDeadline(request) - ctx.now);
        result.decisions.push(decide(ctx, request, instance, this.name, `slo_aware: EDF, ${left} ms to deadline, fastest feasible instance`));
        continue;
      }
      const atRisk = !demoted && hasDeadline(request);
      // A deadline only at risk everywhere: where it finishes soonest gives it its best chance.
      const instance = atRisk ? fastest(ctx, request, available) : routeAmong(ctx, request, available);
      if (!instance) continue;
      cap.take(instance.id);
      const why = demoted ? 'deadline no longer feasible, demoted to best effort' : atRisk ? 'deadline at risk, fastest instance' : 'no deadline, best effort';
      result.decisions.push(decide(ctx, request, instance, this.name, `slo_aware: ${why}; routed by ${ctx.router.name}`));
    }
    return result;
  }
}
