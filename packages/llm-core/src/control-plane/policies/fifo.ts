// fifo: arrival order; each request goes where the context's router sends it (least loaded by default).
// Deadline-blind, as a plain queue (an inference router's or an API proxy's) is: deadlines neither reorder nor
// refuse a request, they are only measured. This is the baseline the deadline-aware policies are compared with.
import type { PolicyResult, RequestMetadata, SchedulingContext, SchedulingPolicy } from '../types';
import { byArrival, routeAmong, sortedBy, type BasePolicyOptions } from './policy-helpers';
import { ARRIVAL_DISCIPLINE, type QueueDiscipline } from './discipline';
import { placeInOrder } from './place';

export type FifoOptions = BasePolicyOptions;

export class FifoPolicy implements SchedulingPolicy {
  readonly name = 'fifo';
  readonly judgesDeadlines = false;

  constructor(private readonly options: FifoOptions = {}) {}

  discipline(): QueueDiscipline {
    return ARRIVAL_DISCIPLINE;
  }

  /** Arrival order. */
  order(queue: readonly RequestMetadata[]): RequestMetadata[] {
    return sortedBy(queue, byArrival);
  }

  /** The reason text for the last router seen (the same router at every call, so it is made once). */
  private routed = { router: '', reason: '' };

  schedule(queue: readonly RequestMetadata[], ctx: SchedulingContext): PolicyResult {
    if (this.routed.router !== ctx.router.name) this.routed = { router: ctx.router.name, reason: `fifo: routed by ${ctx.router.name}` };
    const reason = this.routed.reason;
    return placeInOrder(this.order(queue), ctx, this.options, this.name, (request, available) => {
      const instance = routeAmong(ctx, request, available);
      return instance && { instance, reason };
    });
  }
}
