// The wait that requests queued in the control plane ahead of a request add to its estimate on each instance.
// The estimator sees only an instance's own load, not the control plane's queue, so without this a request
// with a 2 s deadline behind 200 queued ones would look feasible until its deadline ran out (F-203, F-204).
// Same fluid model as the estimator's queue term (fluidWaitMs): the requests ahead are dealt one at a time to
// the instance where they would start soonest (its free slots first, then whichever drains soonest), each
// taking the estimator's per-request service time there; the request then waits behind its instance's share.
import type { ExecutionInstance, LatencyEstimator, RequestMetadata } from '../types';
import { fluidWaitMs, hasBreakdown } from './latency-estimator';

export interface BacklogEstimate {
  instance: ExecutionInstance;
  /** Requests ahead dealt to this instance. */
  ahead: number;
  /** What they add to the request's wait on this instance, ms. */
  backlogMs: number;
  /** End-to-end estimate on this instance with the backlog, ms. */
  totalMs: number;
  /** Time to first token with the backlog (only from an estimator that gives a breakdown). */
  ttftMs?: number;
}

/** The instance with nothing running or waiting: what an estimator says then is a request's bare service time. */
function idle(instance: ExecutionInstance): ExecutionInstance {
  return { ...instance, load: { ...instance.load, activeRequests: 0, queuedRequests: 0 } };
}

/** Estimates of `request` on each of `instances` (same order) once `ahead` queued requests have been served first. */
export function estimateBehindBacklog(estimator: LatencyEstimator, request: RequestMetadata, instances: readonly ExecutionInstance[], ahead: number): BacklogEstimate[] {
  const rows = instances.map((instance) => {
    const b = hasBreakdown(estimator) ? estimator.breakdown(request, instance) : undefined;
    return {
      instance,
      b,
      totalMs: b?.totalMs ?? estimator.estimate(request, instance),
      // A plain estimator has no service time of its own: its estimate on the idle instance stands for it.
      serviceMs: b?.serviceMs ?? (ahead > 0 ? estimator.estimate(request, idle(instance)) : 0),
      occupied: Math.max(0, instance.load.activeRequests) + Math.max(0, instance.load.queuedRequests),
      dealt: 0,
    };
  });
  const waitAt = (r: (typeof rows)[number], extra: number) => fluidWaitMs(r.occupied + extra, r.instance.maxConcurrency, r.serviceMs);
  for (let k = 0; k < ahead && rows.length > 0; k++) {
    let soonest = rows[0]!;
    for (const r of rows) if (waitAt(r, r.dealt) < waitAt(soonest, soonest.dealt)) soonest = r;
    soonest.dealt += 1;
  }
  return rows.map((r) => {
    const backlogMs = waitAt(r, r.dealt) - waitAt(r, 0);
    const est: BacklogEstimate = { instance: r.instance, ahead: r.dealt, backlogMs, totalMs: r.totalMs + backlogMs };
    if (r.b) est.ttftMs = r.b.ttftMs + backlogMs;
    return est;
  });
}
