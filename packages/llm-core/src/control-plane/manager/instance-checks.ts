// Small questions asked of instances by dispatch, retries and prefill/decode pairing.
import { instanceRank, requestClassifier, servesModel } from '../classifier';
import type { ExecutionInstance, RequestMetadata } from '../types';

export function hasCapacity(i: ExecutionInstance): boolean {
  return i.load.activeRequests < i.maxConcurrency;
}

/** The instances among `instances` that serve this request's type and model. */
export function servingInstances(meta: RequestMetadata, instances: readonly ExecutionInstance[]): ExecutionInstance[] {
  return requestClassifier.compatibleInstances(meta.type, instances, meta.model || undefined);
}

/** Whether `inst` serves this request's type and model: servingInstances(meta, [inst]) without its arrays. */
export function servesRequest(inst: ExecutionInstance, meta: RequestMetadata): boolean {
  if (instanceRank(meta.type, inst.type) === undefined || !inst.supportedRequestTypes.includes(meta.type)) return false;
  return !meta.model || servesModel(inst, meta.model);
}
