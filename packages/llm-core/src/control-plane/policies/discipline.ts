// The order a policy serves its queue in, stated as data so that the control plane can keep its queue in that
// order as requests come and go (manager/queue-index.ts) instead of sorting the whole queue on every arrival,
// dispatch or refusal. A policy's order() and its discipline() must agree; a policy without discipline() is
// served by sorting (the general path). The shape is what the queue looks like now (kept by counters).
import type { SchedulingPolicy } from '../types';

export type QueueOrder =
  /** Arrival order. */
  | { kind: 'arrival' }
  /** Earliest of the end-to-end and TTFT deadlines first; requests without one at arrival + bestEffortMs. */
  | { kind: 'deadline'; bestEffortMs: number }
  /** By class, one class better per agingMs waited (requests without a deadline), arrival order within a class. */
  | { kind: 'priority'; agingMs: number };

export interface QueueDiscipline {
  /** The order of LLM requests (and of embeddings when `embeddings` is 'mixed'). */
  order: QueueOrder;
  /** Embeddings served in arrival order before every LLM request, after them, or in the same order as them. */
  embeddings: 'first' | 'last' | 'mixed';
}

export interface QueueShape {
  /** Queued LLM requests with an end-to-end or TTFT deadline. */
  llmWithDeadline: number;
  /** Queued LLM requests per class (index = RequestPriority). */
  llmByPriority: readonly number[];
  llm: number;
  embeddings: number;
  /** Arrival of the oldest queued embedding request (Infinity when none). */
  oldestEmbeddingArrival: number;
  /** The same counts over every queued request. */
  withDeadline: number;
  byPriority: readonly number[];
}

export interface DisciplinedPolicy extends SchedulingPolicy {
  /** Undefined when this queue's order cannot be stated (e.g. a nested policy that does not say): then it is sorted. */
  discipline(shape: QueueShape, now: number): QueueDiscipline | undefined;
}

/** Arrival order for every request (fifo, cost_optimized): one object, as a discipline is only read. */
export const ARRIVAL_DISCIPLINE: QueueDiscipline = Object.freeze({ order: Object.freeze({ kind: 'arrival' as const }), embeddings: 'mixed' as const });

export function hasDiscipline(policy: SchedulingPolicy): policy is DisciplinedPolicy {
  return typeof (policy as Partial<DisciplinedPolicy>).discipline === 'function';
}

/** The shape of an LLM-only queue with the same LLM requests (what a nested policy sees). */
export function llmOnly(shape: QueueShape): QueueShape {
  return { ...shape, embeddings: 0, oldestEmbeddingArrival: Infinity, withDeadline: shape.llmWithDeadline, byPriority: shape.llmByPriority };
}

/** Whether the control plane judges deadlines (admission, the queued-deadline watch) under this policy. */
export function judgesDeadlines(policy: SchedulingPolicy): boolean {
  return policy.judgesDeadlines !== false;
}
