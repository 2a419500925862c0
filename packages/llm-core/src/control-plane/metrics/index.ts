export { LatencyHistogram, type LatencySummary } from './latency-histogram';
export { WindowedLatencyHistogram, type WindowedLatencyOptions } from './windowed-histogram';
export {
  MetricsCollector,
  recordFromRequest,
  sloVerdict,
  REQUEST_OUTCOMES,
  type RequestOutcome,
  type RequestRecord,
  type OutcomeCounts,
  type SloCompliance,
  type InstanceMetrics,
  type PriorityMetrics,
  type MetricsSnapshot,
  type LatencySet,
  type MetricsCollectorOptions,
} from './collector';
