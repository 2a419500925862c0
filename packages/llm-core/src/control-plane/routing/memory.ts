// The listeners of a router's memory (RouterMemory): routers that remember placements tell them here, and a
// shared state store passes them to the other replicas' routers.
import type { RouterMemory } from '../types';

export class LearntPlacements {
  private readonly listeners: Array<(keys: readonly string[], instanceId: string) => void> = [];

  constructor(private readonly take: (keys: readonly string[], instanceId: string) => void) {}

  /** This router learnt that `keys` belong on `instanceId`. */
  tell(keys: readonly string[], instanceId: string): void {
    if (keys.length === 0) return;
    for (const l of this.listeners) l(keys, instanceId);
  }

  readonly memory: RouterMemory = {
    onLearn: (listener) => {
      this.listeners.push(listener);
    },
    learn: (keys, instanceId) => this.take(keys, instanceId),
  };
}
