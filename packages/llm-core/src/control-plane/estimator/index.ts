export {
  createLatencyEstimator,
  hasBreakdown,
  DEFAULT_LATENCY_PARAMS,
  type LatencyEstimatorParams,
  type LatencyBreakdown,
  type DetailedLatencyEstimator,
} from './latency-estimator';
