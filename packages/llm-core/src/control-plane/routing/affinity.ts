// affinity: a session (or, failing that, a user) sticks to the instance that served it, which keeps its
// KV cache warm, unless that instance is above its bounded-load share; then the session moves to the least
// loaded instance and sticks there.
import type { ExecutionInstance, RequestMetadata, RouterMemory, RoutingStrategy } from '../types';
import { withinLoadBound } from './load';
import { pickLeastLoaded, type Rng } from './load-balanced';
import { BoundedLru } from './lru';
import { LearntPlacements } from './memory';

export interface AffinityOptions {
  /** Load slack ε of the bounded-load rule (default 0.25). */
  epsilon?: number;
  /** Most sessions remembered (default 10,000; least recently used forgotten first). */
  maxSessions?: number;
  rng?: Rng;
}

export function affinityKey(request: RequestMetadata): string | undefined {
  if (request.sessionId) return `s:${request.sessionId}`;
  if (request.userId) return `u:${request.userId}`;
  return undefined;
}

export class AffinityRouter implements RoutingStrategy {
  readonly name = 'affinity';
  private readonly epsilon: number;
  private readonly rng: Rng;
  private readonly sticky: BoundedLru<string, string>;
  private readonly learnt = new LearntPlacements((keys, id) => {
    for (const k of keys) this.sticky.set(k, id);
  });
  /** Where sessions stick, shared with other replicas' affinity routers. */
  readonly memory: RouterMemory = this.learnt.memory;

  constructor(options: AffinityOptions = {}) {
    this.epsilon = options.epsilon ?? 0.25;
    if (!(this.epsilon >= 0)) throw new RangeError(`affinity epsilon must be >= 0, got ${options.epsilon}`);
    this.rng = options.rng ?? Math.random;
    this.sticky = new BoundedLru(options.maxSessions ?? 10_000);
  }

  route(request: RequestMetadata, candidates: readonly ExecutionInstance[]): ExecutionInstance | undefined {
    const key = affinityKey(request);
    if (key === undefined) return pickLeastLoaded(candidates, this.rng);
    const stuckId = this.sticky.get(key);
    const stuck = stuckId === undefined ? undefined : candidates.find((c) => c.id === stuckId);
    if (stuck && withinLoadBound(stuck, candidates, this.epsilon)) return stuck;
    const chosen = pickLeastLoaded(candidates, this.rng);
    if (chosen) {
      this.sticky.set(key, chosen.id);
      if (stuckId !== chosen.id) this.learnt.tell([key], chosen.id);
    }
    return chosen;
  }

  /** The instance a session or user is currently stuck to (for status and tests). */
  stickyInstance(request: RequestMetadata): string | undefined {
    const key = affinityKey(request);
    return key === undefined ? undefined : this.sticky.peek(key);
  }

  onInstancesChanged(instances: readonly ExecutionInstance[]): void {
    const ids = new Set(instances.map((i) => i.id));
    this.sticky.retain((id) => ids.has(id));
  }
}
