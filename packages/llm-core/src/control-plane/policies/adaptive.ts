// adaptive: chooses a policy per scheduling call from what the queue and the instances look like, and
// records the choice in every decision (`policy: 'adaptive→slo_aware'`):
//   - any deadline in the queue            → slo_aware (only it protects deadlines and rejects the hopeless)
//   - mixed or urgent priorities           → priority
//   - no contention and prices that differ → cost_optimized (when everything fits, spend less)
//   - otherwise                            → fifo
// "Contention" is the load signal: more queued requests than free slots in the snapshot.
import { freeSlots } from '../routing/load';
import { RequestPriority, type ExecutionInstance, type PolicyResult, type RequestMetadata, type SchedulingContext, type SchedulingPolicy } from '../types';
import { CapacityView } from './capacity';
import { absoluteDeadline, absoluteTtftDeadline } from './policy-helpers';
import { CostOptimizedPolicy, type CostOptimizedOptions } from './cost-optimized';
import type { DisciplinedPolicy, QueueDiscipline, QueueShape } from './discipline';
import { FifoPolicy } from './fifo';
import { PriorityPolicy, type PriorityOptions } from './priority';
import { serviceOrder } from './service-order';
import { SloAwarePolicy, type SloAwareOptions } from './slo-aware';

const SLO_AWARE: AdaptiveChoice = Object.freeze({ delegate: 'slo_aware', why: 'deadlines in queue' });
const PRIORITY: AdaptiveChoice = Object.freeze({ delegate: 'priority', why: 'mixed or urgent priorities' });
const UNIFORM: AdaptiveChoice = Object.freeze({ delegate: 'fifo', why: 'uniform work' });

/** Equality as a Set sees it. */
const sameValueZero = (a: number, b: number) => a === b || (a !== a && b !== b);

/** More than one class queued, or any at HIGH or better (the counters' form of chooseByQueue's rule). */
function mixedOrUrgent(byPriority: readonly number[]): boolean {
  let classes = 0;
  for (let p = 0; p < byPriority.length; p++) {
    if (!(byPriority[p]! > 0)) continue;
    if (p <= RequestPriority.HIGH || ++classes > 1) return true;
  }
  return false;
}

/** Free slots of the snapshot, each instance id counted once (the last of a repeated id, as CapacityView does). */
function totalFree(instances: readonly ExecutionInstance[]): number {
  if (instances.length > 8) return new CapacityView(instances).totalFree();
  let n = 0;
  for (let k = 0; k < instances.length; k++) {
    const i = instances[k]!;
    let repeated = false;
    for (let j = k + 1; j < instances.length && !repeated; j++) repeated = instances[j]!.id === i.id;
    if (!repeated) n += freeSlots(i);
  }
  return n;
}

/** Whether the instances have more than one hourly price (no price counts as 0). */
function pricesDiffer(instances: readonly ExecutionInstance[]): boolean {
  if (instances.length === 0) return false;
  const first = instances[0]!.costPerHour ?? 0;
  for (const i of instances) if (!sameValueZero(i.costPerHour ?? 0, first)) return true;
  return false;
}

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
    // Loops rather than some()/Set: this runs at every dispatch, and the answer is the same.
    for (const r of queue) {
      if (absoluteDeadline(r) !== undefined || absoluteTtftDeadline(r) !== undefined) return SLO_AWARE;
    }
    for (const r of queue) {
      if (!sameValueZero(r.priority, queue[0]!.priority) || r.priority <= RequestPriority.HIGH) return PRIORITY;
    }
    return undefined;
  }

  choose(queue: readonly RequestMetadata[], ctx: SchedulingContext): AdaptiveChoice {
    const byQueue = this.chooseByQueue(queue);
    if (byQueue) return byQueue;
    const free = totalFree(ctx.instances);
    if (queue.length <= free && pricesDiffer(ctx.instances)) return this.counted('cost_optimized', queue.length, free);
    return queue.length > free ? this.counted('fifo', queue.length, free) : UNIFORM;
  }

  /** The last choice that names counts, kept: dispatch after dispatch sees the same counts, so its text is made once. */
  private lastCounted: { delegate: AdaptiveDelegate; queued: number; free: number; choice: AdaptiveChoice } | undefined;

  private counted(delegate: 'fifo' | 'cost_optimized', queued: number, free: number): AdaptiveChoice {
    const last = this.lastCounted;
    if (last && last.delegate === delegate && last.queued === queued && last.free === free) return last.choice;
    const why = delegate === 'fifo' ? `contention (${queued} queued > ${free} free)` : `no contention (${queued} queued ≤ ${free} free), prices differ`;
    const choice: AdaptiveChoice = Object.freeze({ delegate, why });
    this.lastCounted = { delegate, queued, free, choice };
    return choice;
  }

  /** Decision labels made once per delegate's label and reason (they repeat from one dispatch to the next). */
  private readonly policyLabels = new Map<string, string>();
  private lastReason = { why: '', inner: '', label: 'adaptive (): ' };

  private policyLabel(inner: string): string {
    let label = this.policyLabels.get(inner);
    if (label === undefined) {
      label = `${this.name}→${inner}`;
      if (this.policyLabels.size < 64) this.policyLabels.set(inner, label);
    }
    return label;
  }

  private reasonLabel(why: string, inner: string): string {
    const last = this.lastReason;
    if (last.why !== why || last.inner !== inner) this.lastReason = { why, inner, label: `adaptive (${why}): ${inner}` };
    return this.lastReason.label;
  }

  /** The discipline of the delegate a queue of this shape gets (the same rule as chooseByQueue, from counters). */
  discipline(shape: QueueShape, now: number): QueueDiscipline | undefined {
    let delegate: AdaptiveDelegate = 'fifo';
    if (shape.withDeadline > 0) delegate = 'slo_aware';
    else if (mixedOrUrgent(shape.byPriority)) delegate = 'priority';
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
    // The delegate's result is this call's own: its decisions are labelled in place rather than copied.
    for (const d of inner.decisions) {
      d.policy = this.policyLabel(d.policy);
      d.reason = this.reasonLabel(choice.why, d.reason);
    }
    return inner;
  }
}
