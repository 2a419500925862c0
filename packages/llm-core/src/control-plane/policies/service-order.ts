// The order a policy would serve a queue in, for questions asked outside a scheduling call (which queued
// requests are ahead of this one?). A policy that does not say serves in arrival order, as fifo does.
import type { RequestMetadata, SchedulingPolicy } from '../types';
import { byArrival, sortedBy } from './policy-helpers';

export function arrivalOrder(queue: readonly RequestMetadata[]): RequestMetadata[] {
  return sortedBy(queue, byArrival);
}

export function serviceOrder(policy: SchedulingPolicy, queue: readonly RequestMetadata[], now: number): RequestMetadata[] {
  // Checked at run time too: a plain-JS policy may use the name for something else.
  return typeof policy.order === 'function' ? policy.order(queue, now) : arrivalOrder(queue);
}
