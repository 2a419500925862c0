// Pieces every policy shares: queue order helpers, router use with a guard, decision building.
import { requestClassifier, type RequestClassifier } from '../classifier/request-classifier';
import { judgeDeadline } from '../estimator/deadline-judge';
import { loadRatio } from '../routing/load';
import { pickLeastLoaded } from '../routing/load-balanced';
import type { ExecutionInstance, Rejection, RequestMetadata, SchedulingContext, SchedulingDecision } from '../types';

export interface BasePolicyOptions {
  /** Classifier used to find compatible instances (default: the shared stateless one). */
  classifier?: RequestClassifier;
  /**
   * Reject at once (code `no_instance`) a request that no instance in the snapshot can serve at all, instead
   * of leaving it queued until one appears (default false: the manager decides how long to wait for engines).
   */
  rejectUnroutable?: boolean;
}

/** Stable arrival order (queue position breaks ties). */
export function sortedBy<T>(queue: readonly T[], compare: (a: T, b: T) => number): T[] {
  // Already in order (the usual case: the control plane hands the queue over in its policy's order), the stable
  // sort below would give it back as it is: one pass says so, without its two arrays of pairs.
  let inOrder = true;
  for (let i = 1; i < queue.length && inOrder; i++) inOrder = !(compare(queue[i]!, queue[i - 1]!) < 0);
  if (inOrder) return queue.slice();
  return queue
    .map((item, index) => ({ item, index }))
    .sort((a, b) => compare(a.item, b.item) || a.index - b.index)
    .map((x) => x.item);
}

/** sortedBy() for a caller that only reads the result: `queue` itself when it is in order already (no copy). */
export function sortedByReadOnly<T>(queue: readonly T[], compare: (a: T, b: T) => number): readonly T[] {
  for (let i = 1; i < queue.length; i++) if (compare(queue[i]!, queue[i - 1]!) < 0) return sortedBy(queue, compare);
  return queue;
}

export const byArrival = (a: RequestMetadata, b: RequestMetadata): number => a.timestamps.arrival - b.timestamps.arrival;

/** Absolute end-to-end deadline (ms on the same clock as ctx.now), if the request has one. */
export function absoluteDeadline(request: RequestMetadata): number | undefined {
  return request.sloDeadlineMs === undefined ? undefined : request.timestamps.arrival + request.sloDeadlineMs;
}

export function absoluteTtftDeadline(request: RequestMetadata): number | undefined {
  return request.ttftDeadlineMs === undefined ? undefined : request.timestamps.arrival + request.ttftDeadlineMs;
}

/** Requests once each, by id: a duplicate id would make a keyed decision ambiguous, so later copies are dropped. */
export function uniqueById(queue: readonly RequestMetadata[]): RequestMetadata[] {
  if (queue.length < 2) return queue.slice();
  const seen = new Set<string>();
  return queue.filter((r) => (seen.has(r.id) ? false : (seen.add(r.id), true)));
}

/** Up to this many requests, duplicates are looked for pairwise (no Set); the queue handed over is nearly always unique. */
const PAIRWISE_MAX = 16;

/** uniqueById() for a caller that only reads the result: `queue` itself when no id repeats. */
export function uniqueByIdReadOnly(queue: readonly RequestMetadata[]): readonly RequestMetadata[] {
  if (queue.length < 2) return queue;
  if (queue.length > PAIRWISE_MAX) return uniqueById(queue);
  for (let i = 1; i < queue.length; i++) {
    const id = queue[i]!.id;
    for (let j = 0; j < i; j++) if (queue[j]!.id === id) return uniqueById(queue);
  }
  return queue;
}

export function compatible(options: BasePolicyOptions, request: RequestMetadata, instances: readonly ExecutionInstance[]): ExecutionInstance[] {
  return (options.classifier ?? requestClassifier).compatibleFor(request, instances);
}

/** Ask the context's router; if it answers with something that is not a candidate, fall back to least loaded. */
export function routeAmong(ctx: SchedulingContext, request: RequestMetadata, candidates: readonly ExecutionInstance[]): ExecutionInstance | undefined {
  if (candidates.length === 0) return undefined;
  const chosen = ctx.router.route(request, candidates);
  if (chosen) for (const c of candidates) if (c.id === chosen.id) return c;
  return pickLeastLoaded(candidates);
}

/** The candidate with the lowest latency estimate (load, then id, break ties deterministically). */
export function fastest(ctx: SchedulingContext, request: RequestMetadata, candidates: readonly ExecutionInstance[]): ExecutionInstance | undefined {
  let best: { inst: ExecutionInstance; est: number } | undefined;
  for (const inst of candidates) {
    const est = ctx.estimator.estimate(request, inst);
    if (
      !best ||
      est < best.est ||
      (est === best.est && (loadRatio(inst) < loadRatio(best.inst) || (loadRatio(inst) === loadRatio(best.inst) && inst.id < best.inst.id)))
    ) {
      best = { inst, est };
    }
  }
  return best?.inst;
}

/**
 * Whether `request`'s estimate on `instance` meets its deadlines (true when it has none): the deadline judge's
 * 'meets' (estimator/deadline-judge.ts), the same rule admission and the queued-deadline watch apply.
 */
export function meetsDeadline(ctx: SchedulingContext, request: RequestMetadata, instance: ExecutionInstance): boolean {
  if (absoluteDeadline(request) === undefined && absoluteTtftDeadline(request) === undefined) return true;
  return judgeDeadline(ctx.estimator, request, [instance], { now: ctx.now }).verdict === 'meets';
}

/** Estimated cost of one request: its share (one of maxConcurrency slots) of the instance's hourly price. */
export function estimatedCost(instance: ExecutionInstance, latencyMs: number): number | undefined {
  if (instance.costPerHour === undefined) return undefined;
  return (instance.costPerHour * latencyMs) / 3_600_000 / Math.max(1, instance.maxConcurrency);
}

export function decide(
  ctx: SchedulingContext,
  request: RequestMetadata,
  instance: ExecutionInstance,
  policy: string,
  reason: string,
): SchedulingDecision {
  const estimatedLatencyMs = ctx.estimator.estimate(request, instance);
  const decision: SchedulingDecision = { requestId: request.id, instanceId: instance.id, estimatedLatencyMs, reason, policy };
  const cost = estimatedCost(instance, estimatedLatencyMs);
  if (cost !== undefined) decision.estimatedCost = cost;
  return decision;
}

export function noInstance(request: RequestMetadata): Rejection {
  return { requestId: request.id, code: 'no_instance', reason: `no instance serves ${request.type} for model "${request.model}"`, retryAfterSec: 5 };
}

/** What to do with a request that can no longer meet its deadline anywhere. */
export type InfeasibleAction = 'reject' | 'demote';

export function deadlineRejection(ctx: SchedulingContext, request: RequestMetadata, bestEstimateMs: number): Rejection {
  const dl = absoluteDeadline(request) ?? absoluteTtftDeadline(request) ?? ctx.now;
  const left = Math.round(dl - ctx.now);
  return {
    requestId: request.id,
    code: 'deadline_infeasible',
    reason: `cannot meet its deadline: ${left} ms left, best estimate ${Math.round(bestEstimateMs)} ms`,
    // By then the work ahead of it should have drained enough for a request like it to fit.
    retryAfterSec: Math.max(1, Math.ceil(bestEstimateMs / 1000)),
  };
}
