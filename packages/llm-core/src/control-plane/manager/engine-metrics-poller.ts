// Polls every registered engine's /metrics for its queue and KV-cache use; a failed poll is skipped, the next comes anyway.
import type { EngineExecutor } from '../executor';
import type { DeferredTimers } from './deferred-timers';
import { parseEngineMetrics } from './engine-metrics';
import type { InstanceRegistry } from './registry';

export function startEngineMetricsPolling(registry: InstanceRegistry, executor: EngineExecutor, timers: DeferredTimers, everyMs: number): void {
  const poll = () => {
    const all = registry.all();
    void Promise.all(
      all.map((inst) =>
        executor
          .getText(inst, '/metrics', Math.min(everyMs, 2000))
          .then((r) => {
            if (r.status === 200) registry.applyEngineMetrics(inst.id, parseEngineMetrics(r.text));
          })
          .catch(() => undefined),
      ),
    ).finally(() => timers.later(poll, everyMs));
  };
  timers.later(poll, everyMs);
}
