// priority: CRITICAL > HIGH > NORMAL > LOW > BACKGROUND, FIFO within a class. Aging lifts a waiting request
// without a deadline by one class per `agingMs`, so a steady stream of urgent work cannot starve the low classes
// forever. A request with a deadline keeps its class: its deadline already bounds its wait (it is served, or
// refused once hopeless), and lifting it would let patient work overtake urgent work — under a sustained
// overload, LOW requests with a minute to spare outranked fresh HIGH ones after 2 × agingMs, and priority
// served in arrival order.
// Urgent requests (by their own class, not the aged one) go to the instance with the lowest latency
// estimate; the rest go where the router sends them.
import { RequestPriority, PRIORITY_NAMES, type PolicyResult, type RequestMetadata, type SchedulingContext, type SchedulingPolicy } from '../types';
import { fastest, routeAmong, sortedBy, type BasePolicyOptions } from './policy-helpers';
import type { QueueDiscipline } from './discipline';
import { placeInOrder } from './place';

export interface PriorityOptions extends BasePolicyOptions {
  /** Waiting this long lifts a request by one class (default 5,000 ms). */
  agingMs?: number;
  /** Classes at or above this one (numerically ≤) are urgent (default HIGH). */
  urgentPriority?: RequestPriority;
}

export const DEFAULT_AGING_MS = 5_000;

/** Whether waiting lifts this request's class: only without a deadline (end-to-end or first-token). */
export function agesInQueue(request: Pick<RequestMetadata, 'sloDeadlineMs' | 'ttftDeadlineMs'>): boolean {
  return request.sloDeadlineMs === undefined && request.ttftDeadlineMs === undefined;
}

/**
 * The class a request competes in now: its own, improved by one per `agingMs` waited, never above CRITICAL;
 * a request with a deadline keeps its own.
 */
export function effectivePriority(request: RequestMetadata, now: number, agingMs: number): number {
  if (!agesInQueue(request)) return request.priority;
  const waited = Math.max(0, now - request.timestamps.arrival);
  return Math.max(RequestPriority.CRITICAL, request.priority - Math.floor(waited / agingMs));
}

export class PriorityPolicy implements SchedulingPolicy {
  readonly name = 'priority';
  private readonly agingMs: number;
  private readonly urgent: number;
  private readonly stated: QueueDiscipline;

  constructor(private readonly options: PriorityOptions = {}) {
    this.agingMs = options.agingMs ?? DEFAULT_AGING_MS;
    if (!(this.agingMs > 0)) throw new RangeError(`agingMs must be > 0, got ${String(options.agingMs)}`);
    this.urgent = options.urgentPriority ?? RequestPriority.HIGH;
    this.stated = Object.freeze({ order: Object.freeze({ kind: 'priority' as const, agingMs: this.agingMs }), embeddings: 'mixed' as const });
  }

  discipline(): QueueDiscipline {
    return this.stated;
  }

  /** The queue in the order this policy would serve it at `now`. */
  order(queue: readonly RequestMetadata[], now: number): RequestMetadata[] {
    const eff = new Map(queue.map((r) => [r, effectivePriority(r, now, this.agingMs)]));
    return sortedBy(queue, (a, b) => (eff.get(a) ?? 0) - (eff.get(b) ?? 0) || a.timestamps.arrival - b.timestamps.arrival);
  }

  schedule(queue: readonly RequestMetadata[], ctx: SchedulingContext): PolicyResult {
    return placeInOrder(this.order(queue, ctx.now), ctx, this.options, this.name, (request, available) => {
      const name = PRIORITY_NAMES[request.priority] ?? String(request.priority);
      const aged = effectivePriority(request, ctx.now, this.agingMs);
      const agedNote = aged < request.priority ? ` (aged to ${PRIORITY_NAMES[aged]})` : '';
      if (request.priority <= this.urgent) {
        const instance = fastest(ctx, request, available);
        return instance && { instance, reason: `priority ${name}: urgent, lowest estimated latency` };
      }
      const instance = routeAmong(ctx, request, available);
      return instance && { instance, reason: `priority ${name}${agedNote}: routed by ${ctx.router.name}` };
    });
  }
}
