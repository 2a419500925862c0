// Polls every registered engine's /metrics: its running and waiting sequences, KV-cache use and capacity go to
// the registry (policies, routers, dashboard), its latency histograms to the learning estimator. A failed
// poll is skipped; the next comes anyway.
import type { LearningLatencyEstimator } from '../estimator';
import type { EngineExecutor } from '../executor';
import type { DeferredTimers } from './deferred-timers';
import { parseEngineMetrics } from './engine-metrics';
import type { InstanceRegistry } from './registry';

export function startEngineMetricsPolling(registry: InstanceRegistry, executor: EngineExecutor, timers: DeferredTimers, everyMs: number, learner?: LearningLatencyEstimator): void {
  const poll = () => {
    const all = registry.all();
    void Promise.all(
      all.map((inst) =>
        executor
          .getText(inst, '/metrics', Math.min(everyMs, 2000))
          .then((r) => {
            if (r.status !== 200) return;
            const m = parseEngineMetrics(r.text);
            registry.applyEngineMetrics(inst.id, m);
            const model = inst.models.find((x) => x !== '*');
            if (learner && model !== undefined && registry.get(inst.id)) learner.observeEngine(inst.id, model, m);
          })
          .catch(() => undefined),
      ),
    ).finally(() => timers.later(poll, everyMs));
  };
  timers.later(poll, everyMs);
}
