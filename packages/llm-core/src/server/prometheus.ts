// Prometheus exposition for the control plane (F-302) on a private prom-client registry, so several servers in one
// process (tests, the embedded client) never share counters. Request-level series carry vLLM's names and labels
// (vllm-series.ts), the control plane's own carry sage_* (sage-series.ts), process and Node.js series their standard
// names. Request outcomes are observed as they finish; queue depth and per-engine load are read at scrape time.
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { ControlPlaneManager } from '../control-plane/manager';
import type { RequestRecord } from '../control-plane/metrics';
import { LabelBounds } from './metrics/label-bounds';
import { SageSeries, type EngineStateSource } from './metrics/sage-series';
import { VllmSeries, type TokenClock } from './metrics/vllm-series';
import { registerEstimatorMetrics } from './estimator-metrics';

export type { EngineStateSource } from './metrics/sage-series';
export type { TokenClock } from './metrics/vllm-series';

export class ControlPlaneMetrics {
  readonly registry = new Registry();
  private readonly sage: SageSeries;
  private readonly vllm: VllmSeries;

  constructor(manager: ControlPlaneManager, engines?: EngineStateSource) {
    collectDefaultMetrics({ register: this.registry });
    const bounds = new LabelBounds(manager.registry);
    this.vllm = new VllmSeries(this.registry, bounds, {
      instances: () => manager.registry.all().map((i) => ({ id: i.id, running: i.load.activeRequests, waitingInEngine: i.load.queuedRequests })),
      queuedModels: () => manager.queuedModels(),
    });
    this.sage = new SageSeries(this.registry, bounds, manager, engines);
    manager.on('finished', (r: RequestRecord) => {
      this.vllm.observe(r);
      this.sage.observe(r);
    });
    registerEstimatorMetrics(this.registry, manager);
  }

  observeHttp(route: string, model: string | undefined, status: number, seconds: number): void {
    this.sage.observeHttp(route, model, status, seconds);
  }

  /** Times the chunks of one stream served by `instanceId` (vllm:inter_token_latency_seconds). */
  tokenClock(model: string | undefined, instanceId: string): TokenClock {
    return this.vllm.tokenClock(model, instanceId);
  }
}
