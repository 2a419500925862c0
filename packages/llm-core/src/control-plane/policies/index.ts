export { CapacityView } from './capacity';
export { type BasePolicyOptions, type InfeasibleAction, absoluteDeadline, absoluteTtftDeadline, meetsDeadline, estimatedCost } from './policy-helpers';
export { serviceOrder, arrivalOrder } from './service-order';
export { FifoPolicy, type FifoOptions } from './fifo';
export { PriorityPolicy, effectivePriority, agesInQueue, DEFAULT_AGING_MS, type PriorityOptions } from './priority';
export { SloAwarePolicy, type SloAwareOptions } from './slo-aware';
export { CostOptimizedPolicy, type CostOptimizedOptions } from './cost-optimized';
export { AdaptivePolicy, type AdaptiveOptions, type AdaptiveDelegate, type AdaptiveChoice } from './adaptive';
export { HybridPolicy, EMBEDDING_PRIORITIES, type EmbeddingPriority, type HybridOptions } from './hybrid';
export {
  createPolicy,
  isPolicyName,
  POLICY_NAMES,
  LLM_FALLBACK_POLICIES,
  type PolicyName,
  type PolicyOptions,
  type LlmFallbackPolicy,
} from './factory';
export { hasDiscipline, judgesDeadlines, llmOnly, type QueueOrder, type QueueDiscipline, type QueueShape, type DisciplinedPolicy } from './discipline';
