// fifo: arrival order; each request goes where the context's router sends it (least loaded by default).
// Deadline-blind, as a plain queue (an inference router's or an API proxy's) is: deadlines neither reorder nor
// refuse a request, they are only measured. This is the baseline the deadline-aware policies are compared with.
import type { ExecutionInstance, PolicyResult, RequestMetadata, SchedulingContext, SchedulingPolicy } from '../types';
import { byArrival, routeAmong, sortedBy, sortedByReadOnly, type BasePolicyOptions } from './policy-helpers';
import { ARRIVAL_DISCIPLINE, type QueueDiscipline } from './discipline';
import { placeInOrder, type Choice } from './place';

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

  /** The answer of `routed`, refilled at each call (placeInOrder reads it at once). */
  private readonly choice: { instance: ExecutionInstance | undefined; reason: string } = { instance: undefined, reason: '' };

  /** The router's choice, made once rather than a closure per scheduling call. */
  private readonly route = (request: RequestMetadata, available: ExecutionInstance[], ctx: SchedulingContext): Choice | undefined => {
    const instance = routeAmong(ctx, request, available);
    if (!instance) return undefined;
    this.choice.instance = instance;
    this.choice.reason = this.routed.reason;
    return this.choice as Choice;
  };

  schedule(queue: readonly RequestMetadata[], ctx: SchedulingContext): PolicyResult {
    if (this.routed.router !== ctx.router.name) this.routed = { router: ctx.router.name, reason: `fifo: routed by ${ctx.router.name}` };
    // Arrival order, read only: the queue handed over is nearly always in that order already.
    return placeInOrder(sortedByReadOnly(queue, byArrival), ctx, this.options, this.name, this.route);
  }
}
