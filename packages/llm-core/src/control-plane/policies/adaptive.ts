// adaptive: chooses a policy per scheduling call from what the queue and the instances look like, and
// records the choice in every decision (`policy: 'adaptive→slo_aware'`):
//   - any deadline in the queue            → slo_aware (only it protects deadlines and rejects the hopeless)
//   - mixed or urgent priorities           → priority
//   - no contention and prices that differ → cost_optimized (when everything fits, spend less)
//   - otherwise                            → fifo
// "Contention" is the load signal: more queued requests than free slots in the snapshot.
import { RequestPriority, type PolicyResult, type RequestMetadata, type SchedulingContext, type SchedulingPolicy } from '../types';
import { CapacityView } from './capacity';
import { absoluteDeadline, absoluteTtftDeadline } from './policy-helpers';
import { CostOptimizedPolicy, type CostOptimizedOptions } from './cost-optimized';
import type { DisciplinedPolicy, QueueDiscipline, QueueShape } from './discipline';
import { FifoPolicy } from './fifo';
import { PriorityPolicy, type PriorityOptions } from './priority';
import { serviceOrder } from './service-order';
import { SloAwarePolicy, type SloAwareOptions } from './slo-aware';

export type AdaptiveOptions = PriorityOptions & SloAwareOptions & CostOptimizedOptions;

export type AdaptiveDelegate = 'fifo' | 'priority' | 'slo_aware' | 'cost_optimized';

export interface AdaptiveChoice {
  delegate: AdaptiveDelegate;
  why: string;
}

export class AdaptivePolicy implements SchedulingPolicy {
  readonly name = 'adaptive';
  /** Any deadline in the queue hands it to slo_aware, so deadlines are judged whatever the queue is now. */
  readonly judgesDeadlines = true;
  private readonly delegates: Record<AdaptiveDelegate, DisciplinedPolicy>;
  private last: AdaptiveChoice | undefined;

  constructor(options: AdaptiveOptions = {}) {
    this.delegates = {
      fifo: new FifoPolicy(options),
      priority: new PriorityPolicy(options),
      slo_aware: new SloAwarePolicy(options),
      cost_optimized: new CostOptimizedPolicy(options),
    };
  }

  /** The delegate used by the most recent schedule() call. */
  get lastChoice(): AdaptiveChoice | undefined {
    return this.last;
  }

  /** The choices the queue alone decides (deadlines, priorities); undefined when the instances must. */
  private chooseByQueue(queue: readonly RequestMetadata[]): AdaptiveChoice | undefined {
    if (queue.some((r) => absoluteDeadline(r) !== undefined || absoluteTtftDeadline(r) !== undefined)) {
      return { delegate: 'slo_aware', why: 'deadlines in queue' };
    }
    const priorities = new Set(queue.map((r) => r.priority));
    if (priorities.size > 1 || queue.some((r) => r.priority <= RequestPriority.HIGH)) {
      return { delegate: 'priority', why: 'mixed or urgent priorities' };
    }
    return undefined;
  }

  choose(queue: readonly RequestMetadata[], ctx: SchedulingContext): AdaptiveChoice {
    const byQueue = this.chooseByQueue(queue);
    if (byQueue) return byQueue;
    const free = new CapacityView(ctx.instances).totalFree();
    const prices = new Set(ctx.instances.map((i) => i.costPerHour ?? 0));
    if (queue.length <= free && prices.size > 1) {
      return { delegate: 'cost_optimized', why: `no contention (${queue.length} queued ≤ ${free} free), prices differ` };
    }
    return { delegate: 'fifo', why: queue.length > free ? `contention (${queue.length} queued > ${free} free)` : 'uniform work' };
  }

  /** The discipline of the delegate a queue of this shape gets (the same rule as chooseByQueue, from counters). */
  discipline(shape: QueueShape, now: number): QueueDiscipline | undefined {
    let delegate: AdaptiveDelegate = 'fifo';
    if (shape.withDeadline > 0) delegate = 'slo_aware';
    else if (shape.byPriority.filter((n) => n > 0).length > 1 || shape.byPriority.some((n, p) => n > 0 && p <= RequestPriority.HIGH)) delegate = 'priority';
    return this.delegates[delegate].discipline(shape, now);
  }

  /**
   * The order of the delegate this queue would get. The instances only choose between cost_optimized and fifo,
   * and both serve in arrival order, so the queue alone decides the order.
   */
  order(queue: readonly RequestMetadata[], now: number): RequestMetadata[] {
    const choice = this.chooseByQueue(queue);
    return serviceOrder(this.delegates[choice?.delegate ?? 'fifo'], queue, now);
  }

  schedule(queue: readonly RequestMetadata[], ctx: SchedulingContext): PolicyResult {
    const choice = this.choose(queue, ctx);
    this.last = choice;
    const inner = this.delegates[choice.delegate].schedule(queue, ctx);
    return {
      decisions: inner.decisions.map((d) => ({ ...d, policy: `${this.name}→${d.policy}`, reason: `adaptive (${choice.why}): ${d.reason}` })),
      rejections: inner.rejections,
    };
  }
}
