// The placement loop shared by the policies that first order the queue and then choose an instance per
// request: walk the order, skip what has no free compatible slot (it waits for the next call), stop when the
// whole snapshot is full, and count every placement in the virtual capacity view.
import type { ExecutionInstance, PolicyResult, RequestMetadata, SchedulingContext } from '../types';
import { CapacityView } from './capacity';
import { compatible, decide, noInstance, uniqueByIdReadOnly, type BasePolicyOptions } from './policy-helpers';

export interface Choice {
  instance: ExecutionInstance;
  reason: string;
}

export function placeInOrder(
  ordered: readonly RequestMetadata[],
  ctx: SchedulingContext,
  options: BasePolicyOptions,
  policy: string,
  /** Its answer is read at once (it may hand back one object refilled at each call); `ctx` is this call's. */
  choose: (request: RequestMetadata, available: ExecutionInstance[], ctx: SchedulingContext) => Choice | undefined,
): PolicyResult {
  const result: PolicyResult = { decisions: [], rejections: [] };
  const cap = new CapacityView(ctx.instances);
  // The shared classifier's answer depends on the type and model alone: consecutive requests of one kind share it.
  const byKind = options.classifier === undefined;
  let kindCompat: ExecutionInstance[] | undefined;
  let kindType: RequestMetadata['type'] | undefined;
  let kindModel: string | undefined;
  for (const request of ctx.uniqueIds === true ? ordered : uniqueByIdReadOnly(ordered)) {
    let compat: ExecutionInstance[];
    if (byKind && kindCompat !== undefined && request.type === kindType && request.model === kindModel) compat = kindCompat;
    else {
      compat = compatible(options, request, ctx.instances);
      kindCompat = compat;
      kindType = request.type;
      kindModel = request.model;
    }
    if (compat.length === 0) {
      if (options.rejectUnroutable) result.rejections.push(noInstance(request));
      continue;
    }
    if (cap.totalFree() === 0) {
      if (options.rejectUnroutable) continue; // keep scanning only to reject the unroutable
      break;
    }
    const available = cap.available(compat);
    if (available.length === 0) continue;
    const choice = choose(request, available, ctx);
    if (!choice) continue;
    cap.take(choice.instance.id);
    result.decisions.push(decide(ctx, request, choice.instance, policy, choice.reason));
  }
  return result;
}
