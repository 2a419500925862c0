// Load arithmetic shared by the routing strategies and the policies. Everything reads the snapshot only.
import type { ExecutionInstance } from '../types';

/** Requests the instance is working on or holding in its own queue. */
export function outstanding(instance: ExecutionInstance): number {
  return Math.max(0, instance.load.activeRequests) + Math.max(0, instance.load.queuedRequests);
}

/** Outstanding work normalised by concurrency, so a 16-slot instance with 4 requests is less loaded than a 4-slot one with 2. */
export function loadRatio(instance: ExecutionInstance): number {
  return outstanding(instance) / Math.max(1, instance.maxConcurrency);
}

/** Slots the instance can still take without queueing: maxConcurrency − activeRequests (never negative). */
export function freeSlots(instance: ExecutionInstance): number {
  return Math.max(0, Math.floor(instance.maxConcurrency) - Math.max(0, instance.load.activeRequests));
}

/** A copy of `instance` with `extra` more active requests (virtual accounting inside one scheduling call). */
export function withExtraActive(instance: ExecutionInstance, extra: number): ExecutionInstance {
  if (extra === 0) return instance;
  return { ...instance, load: { ...instance.load, activeRequests: instance.load.activeRequests + extra } };
}

/**
 * Bounded-load rule (consistent hashing with bounded loads, Mirrokni et al.): an instance may take one more
 * request while its outstanding work stays within (1+ε) × its capacity-weighted share of the total.
 */
export function withinLoadBound(instance: ExecutionInstance, all: readonly ExecutionInstance[], epsilon: number): boolean {
  const total = all.reduce((s, i) => s + outstanding(i), 0);
  const capacity = all.reduce((s, i) => s + Math.max(1, i.maxConcurrency), 0);
  const share = Math.max(1, instance.maxConcurrency) / Math.max(1, capacity);
  const bound = Math.ceil((1 + epsilon) * (total + 1) * share);
  return outstanding(instance) + 1 <= bound;
}
