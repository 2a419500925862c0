export { LatencyHistogram, type LatencySummary } from './latency-histogram';
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
  type MetricsCollectorOptions,
} from './collector';
