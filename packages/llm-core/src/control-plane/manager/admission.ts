// Admission control: given the registered instances, the queue and the estimator, everything that can be
// refused at once is refused here, with a reason. The caller records refusals and throws.
import { requestClassifier } from '../classifier';
import { estimateBehindBacklog, fluidWaitMs } from '../estimator';
import type { ExecutionInstance, LatencyEstimator, RequestMetadata } from '../types';
import { aheadPhrase } from './backlog';
import { ControlPlaneError, RequestRejectedError } from './errors';

export interface AdmissionContext {
  /** Every registered instance, healthy or not. */
  instances: readonly ExecutionInstance[];
  queueSize: () => number;
  maxQueueSize: number;
  estimator: LatencyEstimator;
  /** Runs a dispatch turn now: the queue may hold requests that only wait for it (a burst in one tick). */
  dispatchNow: () => void;
  /** Queued requests the policy would serve before this one that compete with it for `serving` (backlog.ts). */
  countAhead: (meta: RequestMetadata, serving: readonly ExecutionInstance[]) => number;
}

/** The refusal for this request, or undefined when it may be queued. */
export function admissionRefusal(meta: RequestMetadata, ctx: AdmissionContext): RequestRejectedError | ControlPlaneError | undefined {
  const all = ctx.instances;
  const ofType = requestClassifier.compatibleInstances(meta.type, all);
  if (ofType.length === 0) return new RequestRejectedError('no_instance', `no instance serves ${meta.type} requests`, meta.id, 5);
  const compatible = meta.model ? requestClassifier.compatibleInstances(meta.type, all, meta.model) : ofType;
  if (compatible.length === 0) {
    const models = [...new Set(ofType.flatMap((i) => i.models))];
    return new ControlPlaneError(`model "${meta.model}" is not served here; available: ${models.join(', ')}`, { status: 404, type: 'invalid_request_error', code: 'model_not_found', requestId: meta.id });
  }
  const healthy = compatible.filter((i) => i.health === 'healthy');
  if (healthy.length === 0) return new RequestRejectedError('no_instance', `every instance serving ${meta.model || meta.type} is unhealthy`, meta.id, 5);

  if (ctx.queueSize() >= ctx.maxQueueSize) ctx.dispatchNow();
  if (ctx.queueSize() >= ctx.maxQueueSize) {
    return new RequestRejectedError('queue_full', `queue is full (${ctx.queueSize()} requests waiting)`, meta.id, retryAfterSec(healthy, ctx.queueSize()));
  }
  if (meta.sloDeadlineMs !== undefined) {
    // The instance's own load is in the estimate; the control plane's queue ahead of the request is not.
    const ahead = ctx.countAhead(meta, healthy);
    const best = Math.min(...estimateBehindBacklog(ctx.estimator, meta, healthy, ahead).map((e) => e.totalMs));
    if (best > meta.sloDeadlineMs) {
      const why = `deadline ${meta.sloDeadlineMs} ms cannot be met (best estimate ${Math.round(best)} ms with ${aheadPhrase(ahead)})`;
      return new RequestRejectedError('deadline_infeasible', why, meta.id, retryAfterSec(healthy, ctx.queueSize()));
    }
  }
  return undefined;
}

/**
 * Seconds until a new request could plausibly be served: the whole queue ahead of it drained by every slot
 * (taken as full, so nothing is promised early) at the slowest observed latency, in the estimator's fluid model.
 */
export function retryAfterSec(instances: readonly ExecutionInstance[], queueSize: number): number {
  const slots = Math.max(1, Math.floor(instances.reduce((n, i) => n + Math.max(1, i.maxConcurrency), 0)));
  const latency = instances.reduce((m, i) => Math.max(m, i.load.ewmaLatencyMs), 0) || 1000;
  return Math.max(1, Math.ceil(fluidWaitMs(queueSize + slots, slots, latency) / 1000));
}
