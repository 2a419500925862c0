// From settings to the options of the pieces that use them: the scheduler (ControlPlaneManager) and the
// engine supervisor. The one place that knows which setting feeds which option.
import type { ControlPlaneManagerOptions } from '../control-plane/manager';
import type { SupervisorOptions } from '../engines/lifecycle';
import type { SchedulingSettings } from './schema';

export function managerOptionsFrom(s: SchedulingSettings): ControlPlaneManagerOptions {
  return {
    policy: s.schedulingPolicy,
    router: s.router,
    policyOptions: {
      embeddingPriority: s.embeddingPriority,
      llmFallbackPolicy: s.llmFallbackPolicy,
    },
    enablePdSeparation: s.pdSeparation,
    pdMinInputTokens: s.pdMinInputTokens,
    pdMinInputOutputRatio: s.pdMinInputOutputRatio,
    // The batcher alone decides what embedding requests travel together; policies place its batches.
    embedding: { batchSize: s.embeddingBatchSize, maxWaitMs: s.embeddingBatchWaitMs, maxBatchTokens: s.embeddingTokenBudget },
    maxQueueSize: s.maxQueueSize,
    maxQueueWaitMs: s.maxQueueWaitMs,
    admission: { waitBudgetMs: s.queueWaitBudgetMs, shadow: s.admissionShadow, confidence: s.deadlineConfidence },
    engineMetricsPollMs: s.engineMetricsPollMs,
    requestTimeoutMs: s.requestTimeoutMs,
    streamIdleTimeoutMs: s.streamIdleTimeoutMs,
  };
}

export function supervisorOptionsFrom(s: SchedulingSettings): SupervisorOptions {
  return {
    autoRestart: s.autoRestart,
    maxRestartAttempts: s.maxRestartAttempts,
    backoffBaseMs: s.restartBackoffMs,
    intervalMs: s.healthCheckIntervalMs,
    failureThreshold: s.healthFailureThreshold,
  };
}
