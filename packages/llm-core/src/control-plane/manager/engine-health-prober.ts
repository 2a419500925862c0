// An engine found down (a connection-level failure) leaves rotation and is probed on /health until it
// answers again; then the caller marks it healthy.
import type { EngineExecutor } from '../executor';
import type { DeferredTimers } from './deferred-timers';
import type { InstanceRegistry } from './registry';

export interface EngineHealthProberOptions {
  registry: InstanceRegistry;
  executor: EngineExecutor;
  timers: DeferredTimers;
  intervalMs: number;
  onRecovered: (id: string) => void;
}

export class EngineHealthProber {
  private readonly probing = new Set<string>();

  constructor(private readonly o: EngineHealthProberOptions) {}

  engineDown(id: string): void {
    const { registry, executor, timers, intervalMs } = this.o;
    registry.setHealth(id, 'unhealthy');
    if (this.probing.has(id) || timers.closed) return;
    this.probing.add(id);
    const probe = () => {
      const inst = registry.get(id);
      if (!inst || timers.closed) {
        this.probing.delete(id);
        return;
      }
      executor
        .getText(inst, '/health', 1000)
        .then((r) => r.status >= 200 && r.status < 300)
        .catch(() => false)
        .then((ok) => {
          if (ok) {
            this.probing.delete(id);
            this.o.onRecovered(id);
          } else timers.later(probe, intervalMs);
        });
    };
    timers.later(probe, intervalMs);
  }
}
