export {
  createLatencyEstimator,
  hasBreakdown,
  fluidWaitMs,
  latencyParams,
  DEFAULT_LATENCY_PARAMS,
  type LatencyEstimatorParams,
  type LatencyBreakdown,
  type DetailedLatencyEstimator,
} from './latency-estimator';
export {
  createLearnedLatencyEstimator,
  isLearningEstimator,
  type LearnedEstimatorOptions,
  type LearningLatencyEstimator,
  type LearntRates,
  type ServiceOutcome,
} from './learned-estimator';
export type { EngineTimings } from './calibration';
export type { AccuracySummary } from './accuracy';
export { backlogRows, estimateBehindBacklog, rowBacklogMs, type BacklogEstimate, type BacklogRow } from './backlog';
export {
  judgeDeadline,
  hasDeadline,
  errorBand,
  DEFAULT_DEADLINE_CONFIDENCE,
  type DeadlineVerdict,
  type DeadlineJudgement,
  type InstanceJudgement,
  type JudgeOptions,
} from './deadline-judge';
