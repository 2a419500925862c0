// What the HTTP layer asks about readiness: the status for /health and /health/ready, and a wait for a model
// whose engine is still starting (ControlPlaneRuntime provides both; a bare manager has neither).
import type { EngineCategory } from '../engines/kinds';
import type { ModelWait, ReadinessStatus } from '../runtime/readiness';

export interface ServerReadiness {
  status(): ReadinessStatus;
  /** Resolves 'served' once an instance serves `model`, at once 'not_expected' when no engine is on its way for it. */
  waitForModel(model: string | undefined, category: EngineCategory, signal?: AbortSignal): Promise<ModelWait>;
  /** Whether an instance serves `model` now: when it does, a request skips the wait (and its promises) altogether. */
  servesNow?(model: string | undefined, category: EngineCategory): boolean;
}
