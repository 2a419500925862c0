// The control plane's own series, for what vLLM has no name for: its queue, its refusals, SLO attainment per
// priority, stream failovers, engine restarts, per-instance load and the HTTP layer. Label values come from bounded sets.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ControlPlaneManager } from '../../control-plane/manager';
import { REQUEST_OUTCOMES, sloVerdict, type RequestRecord } from '../../control-plane/metrics';
import { PRIORITY_NAMES } from '../../control-plane/types';
import { OTHER, type LabelBounds } from './label-bounds';
import { SeriesCounter, SeriesHistogram } from './series-metrics';

type CounterHandle = ReturnType<SeriesCounter['labels']>;
type HistogramHandle = ReturnType<SeriesHistogram['labels']>;

export interface EngineStateSource {
  listEngines(): Array<{ id: string; state: string; model: string; restarts?: number }>;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** Why the control plane refuses a request (RequestRejectedError codes and policy rejections). */
export const REFUSAL_REASONS = ['queue_full', 'deadline_infeasible', 'no_instance', 'queue_timeout', 'shutting_down', 'invalid_request'] as const;
const REFUSALS = new Set<string>(REFUSAL_REASONS);

/** Priority label values, by RequestPriority (lower-cased once, not per request). */
const PRIORITIES = PRIORITY_NAMES.map((p) => p.toLowerCase());
const PRIORITY_COUNT = PRIORITIES.length;

/** The outcome's index in REQUEST_OUTCOMES (-1 for any other), by comparison rather than a search of the list. */
function outcomeIndex(outcome: string): number {
  switch (outcome) {
    case 'completed':
      return 0;
    case 'failed':
      return 1;
    case 'rejected':
      return 2;
    case 'cancelled':
      return 3;
    default:
      return -1;
  }
}

const FAILOVER_REASONS = ['connection_lost', 'idle_timeout', 'engine_error'] as const;

export class SageSeries {
  // Updated on every request: series kept by handle (series-metrics.ts), read at scrape time.
  private readonly httpRequests: SeriesCounter;
  private readonly httpDuration: SeriesHistogram;
  private readonly outcomes: SeriesCounter;
  private readonly queueWait: SeriesHistogram;
  private readonly refusals: SeriesCounter;
  private readonly slo: SeriesCounter;
  // Handles on the series each request updates, by outcome and priority index: no labels object per request and no
  // lookup by label names (made on first use, so the series appear in /metrics in the order they did before).
  private readonly outcomeHandles = new Array<CounterHandle | undefined>(REQUEST_OUTCOMES.length * PRIORITY_COUNT).fill(undefined);
  private readonly queueWaitHandle: HistogramHandle;
  /** Per route (a route pattern: few), its duration series and the requests series of its last request. */
  private readonly httpRoutes = new Map<string, { duration: HistogramHandle; last: { model: string | undefined; status: number; version: number; requests: CounterHandle } | undefined }>();
  /** By priority index, then met (true) or missed (false); made with their series at zero in the constructor. */
  private readonly sloHandles: Array<{ met: CounterHandle; missed: CounterHandle }>;

  constructor(registry: Registry, private readonly bounds: LabelBounds, manager: ControlPlaneManager, engines?: EngineStateSource) {
    const registers = [registry];
    this.httpRequests = new SeriesCounter({ name: 'sage_http_requests_total', help: 'HTTP requests by route, model (a served model, else "other") and status', labelNames: ['route', 'model', 'status'], registers });
    this.httpDuration = new SeriesHistogram({ name: 'sage_http_request_duration_seconds', help: 'HTTP request duration by route', labelNames: ['route'], buckets: LATENCY_BUCKETS, registers });
    this.outcomes = new SeriesCounter({ name: 'sage_requests_total', help: 'Scheduled requests by outcome and priority', labelNames: ['outcome', 'priority'], registers });
    this.queueWait = new SeriesHistogram({ name: 'sage_queue_wait_seconds', help: 'Time spent in the control-plane queue before dispatch', buckets: LATENCY_BUCKETS, registers });
    this.refusals = new SeriesCounter({ name: 'sage_requests_rejected_total', help: 'Requests the control plane refused, by reason', labelNames: ['reason'], registers });
    this.slo = new SeriesCounter({ name: 'sage_slo_requests_total', help: 'Requests with a deadline, by whether it was met, per priority', labelNames: ['met', 'priority'], registers });
    for (const reason of REFUSAL_REASONS) this.refusals.inc({ reason }, 0);
    const failovers = new Counter({ name: 'sage_stream_failovers_total', help: 'Streams continued on another instance after their engine failed mid-way, by reason', labelNames: ['reason'], registers });
    for (const reason of FAILOVER_REASONS) failovers.inc({ reason }, 0);
    manager.on('failover', (e) => failovers.inc({ reason: e.reason }));
    for (const priority of PRIORITIES) for (const met of ['true', 'false']) this.slo.inc({ met, priority }, 0);
    this.sloHandles = PRIORITIES.map((priority) => ({ met: this.slo.labels({ met: 'true', priority }), missed: this.slo.labels({ met: 'false', priority }) }));
    this.queueWaitHandle = this.queueWait.labels({});

    new Gauge({ name: 'sage_queue_depth', help: 'Requests waiting in the control-plane queue', registers, collect() { this.set(manager.queueLength); } });
    new Gauge({ name: 'sage_requests_running', help: 'Requests dispatched to engines and not finished', registers, collect() { this.set(manager.status().running); } });
    const instanceGauge = (name: string, help: string, read: (i: ReturnType<ControlPlaneManager['getInstances']>[number]) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['instance', 'type'],
        registers,
        collect() {
          this.reset();
          for (const i of manager.getInstances()) this.set({ instance: bounds.instance(i.id), type: i.type }, read(i));
        },
      });
    instanceGauge('sage_instance_active_requests', 'Active requests per instance', (i) => i.load.activeRequests);
    instanceGauge('sage_instance_queued_requests', 'Requests queued inside each engine', (i) => i.load.queuedRequests);
    instanceGauge('sage_instance_kv_cache_usage', 'KV-cache use per instance (0..1)', (i) => i.load.kvCacheUsage);
    instanceGauge('sage_instance_ewma_latency_seconds', 'EWMA end-to-end latency per instance', (i) => i.load.ewmaLatencyMs / 1000);
    instanceGauge('sage_instance_healthy', '1 when the instance is healthy', (i) => (i.health === 'healthy' ? 1 : 0));
    if (engines) {
      new Gauge({
        name: 'sage_engine_state',
        help: 'Engine lifecycle state (1 for the current state)',
        labelNames: ['engine', 'model', 'state'],
        registers,
        collect() {
          this.reset();
          for (const e of engines.listEngines()) this.set({ engine: e.id, model: e.model, state: e.state }, 1);
        },
      });
      // The supervisor keeps the count; the counter mirrors it at scrape time.
      new Counter({
        name: 'sage_engine_restarts_total',
        help: 'Automatic restarts of each launched engine',
        labelNames: ['engine'],
        registers,
        collect() {
          this.reset();
          for (const e of engines.listEngines()) this.inc({ engine: e.id }, e.restarts ?? 0);
        },
      });
    }
  }

  observe(r: RequestRecord): void {
    const p = r.priority ?? 2;
    const index = PRIORITIES[p] === undefined ? 2 : p;
    this.outcomeHandle(r.outcome, index).inc();
    if (r.queueWaitMs !== undefined) this.queueWaitHandle.observe(r.queueWaitMs / 1000);
    if (r.outcome === 'rejected') this.refusals.inc({ reason: r.rejectionCode && REFUSALS.has(r.rejectionCode) ? r.rejectionCode : OTHER });
    const met = sloVerdict(r);
    if (met !== undefined) {
      const h = this.sloHandles[index]!;
      (met ? h.met : h.missed).inc();
    }
  }

  private outcomeHandle(outcome: RequestRecord['outcome'], priority: number): CounterHandle {
    const o = outcomeIndex(outcome);
    // An outcome outside the known ones (from a caller outside sage's types) is counted by its labels.
    if (o < 0) return this.outcomes.labels({ outcome, priority: PRIORITIES[priority]! });
    const k = o * PRIORITY_COUNT + priority;
    let h = this.outcomeHandles[k];
    if (!h) h = this.outcomeHandles[k] = this.outcomes.labels({ outcome, priority: PRIORITIES[priority]! });
    return h;
  }

  observeHttp(route: string, model: string | undefined, status: number, seconds: number): void {
    let r = this.httpRoutes.get(route);
    if (!r) this.httpRoutes.set(route, (r = { duration: this.httpDuration.labels({ route }), last: undefined }));
    r.duration.observe(seconds);
    // Most requests on a route name the same model and end with the same status as the one before: its handle is
    // kept while they do (and while the label bounds are unchanged); any other finds its series by its labels.
    const last = r.last;
    if (last !== undefined && last.model === model && last.status === status && last.version === this.bounds.version) {
      last.requests.inc();
      return;
    }
    const requests = this.httpRequests.labels({ route, model: this.bounds.model(model), status: String(status) });
    requests.inc();
    r.last = { model, status, version: this.bounds.version, requests };
  }
}
