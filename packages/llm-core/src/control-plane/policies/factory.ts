// createPolicy: the one way to get a scheduling policy by name. Unknown names and malformed options are
// errors that say what is valid; there is no silent fallback (the old `hybrid` → `adaptive` bug).
import { z } from 'zod';
import { RequestClassifier } from '../classifier/request-classifier';
import type { SchedulingPolicy } from '../types';
import { AdaptivePolicy, type AdaptiveOptions } from './adaptive';
import { CostOptimizedPolicy } from './cost-optimized';
import { FifoPolicy } from './fifo';
import { EMBEDDING_PRIORITIES, HybridPolicy, type HybridOptions } from './hybrid';
import { PriorityPolicy } from './priority';
import { SloAwarePolicy } from './slo-aware';

export const POLICY_NAMES = ['fifo', 'priority', 'slo_aware', 'cost_optimized', 'adaptive', 'hybrid'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];
export const LLM_FALLBACK_POLICIES = ['fifo', 'priority', 'slo_aware', 'cost_optimized', 'adaptive'] as const;
export type LlmFallbackPolicy = (typeof LLM_FALLBACK_POLICIES)[number];

export interface PolicyOptions extends AdaptiveOptions, HybridOptions {
  /** hybrid: the policy that schedules LLM requests (default 'adaptive'). */
  llmFallbackPolicy?: LlmFallbackPolicy;
}

const optionsSchema = z.object({
  agingMs: z.number().positive().optional(),
  urgentPriority: z.number().int().min(0).max(4).optional(),
  onInfeasible: z.enum(['reject', 'demote']).optional(),
  bestEffortDeadlineMs: z.number().positive().optional(),
  rejectUnroutable: z.boolean().optional(),
  classifier: z.instanceof(RequestClassifier).optional(),
  embeddingPriority: z.enum(EMBEDDING_PRIORITIES).optional(),
  adaptiveWaitMs: z.number().nonnegative().optional(),
  llmFallbackPolicy: z.enum(LLM_FALLBACK_POLICIES).optional(),
});

export function isPolicyName(name: string): name is PolicyName {
  return (POLICY_NAMES as readonly string[]).includes(name);
}

export function createPolicy(name: string, options: PolicyOptions = {}): SchedulingPolicy {
  if (!isPolicyName(name)) throw new Error(`unknown scheduling policy "${name}"; valid policies: ${POLICY_NAMES.join(', ')}`);
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; ');
    throw new Error(`invalid options for scheduling policy "${name}": ${detail}`);
  }
  switch (name) {
    case 'fifo':
      return new FifoPolicy(options);
    case 'priority':
      return new PriorityPolicy(options);
    case 'slo_aware':
      return new SloAwarePolicy(options);
    case 'cost_optimized':
      return new CostOptimizedPolicy(options);
    case 'adaptive':
      return new AdaptivePolicy(options);
    case 'hybrid':
      return new HybridPolicy(createPolicy(options.llmFallbackPolicy ?? 'adaptive', options), options);
  }
}
