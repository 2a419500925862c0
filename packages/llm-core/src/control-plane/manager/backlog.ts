// The backlog ahead of a request with a deadline: the queued requests the policy would serve before it (by
// the policy's own order: fifo all earlier ones, priority those of higher or equal effective class, slo_aware
// those with earlier deadlines) that compete with it for an instance. Admission and the queued-deadline watch
// add the wait they cause to the estimator's (estimateBehindBacklog).
import { arrivalOrder, serviceOrder } from '../policies';
import type { ExecutionInstance, RequestMetadata, SchedulingPolicy } from '../types';
import { servingInstances } from './instance-checks';

/**
 * How many of `queued` are served before `request` (queued or about to be) and could take a slot on one of
 * `serving`, the instances that serve it.
 */
export function countAhead(policy: SchedulingPolicy, queued: readonly RequestMetadata[], request: RequestMetadata, serving: readonly ExecutionInstance[], now: number): number {
  if (queued.length === 0 || serving.length === 0) return 0;
  // A new request joins the end of the queue, so among equals it comes after what already waits.
  const all = queued.some((q) => q.id === request.id) ? queued : [...queued, request];
  let order = serviceOrder(policy, all, now);
  let at = order.findIndex((q) => q.id === request.id);
  if (at < 0) {
    // A policy whose order lost the request: fall back to arrival order rather than ignore the queue.
    order = arrivalOrder(all);
    at = order.findIndex((q) => q.id === request.id);
  }
  // Requests of one type and model compete alike: ask the classifier once per kind.
  const competes = new Map<string, boolean>();
  let ahead = 0;
  for (const q of order.slice(0, at)) {
    const kind = `${q.type}\u0000${q.model}`;
    let c = competes.get(kind);
    if (c === undefined) {
      c = servingInstances(q, serving).length > 0;
      competes.set(kind, c);
    }
    if (c) ahead += 1;
  }
  return ahead;
}

/** "37 requests ahead", for refusal messages. */
export function aheadPhrase(n: number): string {
  return `${n} request${n === 1 ? '' : 's'} ahead`;
}
