export {
  createLatencyEstimator,
  hasBreakdown,
  fluidWaitMs,
  DEFAULT_LATENCY_PARAMS,
  type LatencyEstimatorParams,
  type LatencyBreakdown,
  type DetailedLatencyEstimator,
} from './latency-estimator';
export { estimateBehindBacklog, type BacklogEstimate } from './backlog';
