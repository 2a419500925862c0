// Prometheus exposition for the control plane (F-302) on a private prom-client registry, so several
// servers in one process (tests, the embedded client) never share counters. Request outcomes are observed
// as they finish; queue depth and per-engine load are read at scrape time.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ControlPlaneManager } from '../control-plane/manager';
import type { RequestRecord } from '../control-plane/metrics';
import { PRIORITY_NAMES } from '../control-plane/types';

export interface EngineStateSource {
  listEngines(): Array<{ id: string; state: string; model: string }>;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export class ControlPlaneMetrics {
  readonly registry = new Registry();
  private readonly httpRequests: Counter<'route' | 'model' | 'status'>;
  private readonly httpDuration: Histogram<'route'>;

  constructor(manager: ControlPlaneManager, engines?: EngineStateSource) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'sage_process_' });
    this.httpRequests = new Counter({ name: 'sage_http_requests_total', help: 'HTTP requests by route, model and status', labelNames: ['route', 'model', 'status'], registers });
    this.httpDuration = new Histogram({ name: 'sage_http_request_duration_seconds', help: 'HTTP request duration by route', labelNames: ['route'], buckets: LATENCY_BUCKETS, registers });
    const outcomes = new Counter({ name: 'sage_requests_total', help: 'Scheduled requests by outcome and priority', labelNames: ['outcome', 'priority'], registers });
    const e2e = new Histogram({ name: 'sage_request_latency_seconds', help: 'End-to-end latency of scheduled requests', labelNames: ['priority'], buckets: LATENCY_BUCKETS, registers });
    const ttft = new Histogram({ name: 'sage_time_to_first_token_seconds', help: 'Time to first token', buckets: LATENCY_BUCKETS, registers });
    const queueWait = new Histogram({ name: 'sage_queue_wait_seconds', help: 'Time spent in the control-plane queue', buckets: LATENCY_BUCKETS, registers });
    const slo = new Counter({ name: 'sage_slo_requests_total', help: 'Requests with a deadline, by whether it was met', labelNames: ['met', 'priority'], registers });
    const tokens = new Counter({ name: 'sage_tokens_total', help: 'Tokens processed', labelNames: ['kind'], registers });

    const failovers = new Counter({ name: 'sage_stream_failovers_total', help: 'Streams continued on another instance after their engine failed mid-way, by reason', labelNames: ['reason'], registers });
    for (const reason of ['connection_lost', 'idle_timeout', 'engine_error']) failovers.inc({ reason }, 0);
    manager.on('failover', (e) => failovers.inc({ reason: e.reason }));
    manager.on('finished', (r: RequestRecord) => {
      const priority = PRIORITY_NAMES[r.priority ?? 2]?.toLowerCase() ?? 'normal';
      outcomes.inc({ outcome: r.outcome, priority });
      if (r.e2eMs !== undefined && r.outcome === 'completed') e2e.observe({ priority }, r.e2eMs / 1000);
      if (r.ttftMs !== undefined) ttft.observe(r.ttftMs / 1000);
      if (r.queueWaitMs !== undefined) queueWait.observe(r.queueWaitMs / 1000);
      if (r.sloDeadlineMs !== undefined && r.outcome !== 'cancelled') {
        const met = r.sloMet ?? (r.outcome === 'completed' && (r.e2eMs ?? Infinity) <= r.sloDeadlineMs);
        slo.inc({ met: String(met), priority });
      }
      if (r.promptTokens) tokens.inc({ kind: 'prompt' }, r.promptTokens);
      if (r.completionTokens) tokens.inc({ kind: 'completion' }, r.completionTokens);
    });

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
          for (const i of manager.getInstances()) this.set({ instance: i.id, type: i.type }, read(i));
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
    }
  }

  observeHttp(route: string, model: string, status: number, seconds: number): void {
    this.httpRequests.inc({ route, model, status: String(status) });
    this.httpDuration.observe({ route }, seconds);
  }
}
