// Deadline admission shared by slo_aware and cost_optimized: before either picks an instance, a request
// must have a compatible instance, and one with a deadline must still be able to meet it somewhere, else it
// is rejected at once or demoted to best effort. One place, so both policies judge deadlines alike.
import type { ExecutionInstance, Rejection, RequestMetadata, SchedulingContext } from '../types';
import type { CapacityView } from './capacity';
import { absoluteDeadline, absoluteTtftDeadline, compatible, deadlineRejection, noInstance, uniqueById, type BasePolicyOptions, type InfeasibleAction } from './policy-helpers';
import { feasibility } from './deadline';

export type Admission =
  /** Rejected now (no instance serves it at all, or its deadline cannot be met any more). */
  | { kind: 'reject'; rejection: Rejection }
  /** Stays queued this round (nothing compatible, or every compatible instance is full). */
  | { kind: 'wait' }
  /**
   * Free to place on `available`. `holdToDeadline`: some instance's estimate meets its deadline, so only such
   * an instance will do (`meeting`, their ids; a full one is waited for); a deadline that is only at risk
   * everywhere is served where it finishes soonest. `demoted`: it had one that cannot be met, now best effort.
   */
  | { kind: 'place'; available: ExecutionInstance[]; holdToDeadline: boolean; demoted: boolean; meeting?: Set<string> };

export function admit(
  ctx: SchedulingContext,
  cap: CapacityView,
  request: RequestMetadata,
  options: BasePolicyOptions,
  onInfeasible: InfeasibleAction,
): Admission {
  const compat = compatible(options, request, ctx.instances);
  if (compat.length === 0) return options.rejectUnroutable ? { kind: 'reject', rejection: noInstance(request) } : { kind: 'wait' };
  const hasDeadline = absoluteDeadline(request) !== undefined || absoluteTtftDeadline(request) !== undefined;
  let demoted = false;
  let meeting: Set<string> | undefined;
  if (hasDeadline) {
    // Checked even when everything is full: what cannot make it is told so now, not when it times out.
    const f = feasibility(ctx, cap, request, compat);
    if (!f.feasible) {
      if (onInfeasible === 'reject') return { kind: 'reject', rejection: deadlineRejection(ctx, request, f.bestEstimateMs) };
      demoted = true;
    } else if (f.verdict === 'meets') {
      meeting = f.meeting;
    }
  }
  const available = cap.available(compat);
  if (available.length === 0) return { kind: 'wait' };
  return { kind: 'place', available, holdToDeadline: meeting !== undefined, demoted, meeting };
}

/** A request admitted for placement this round, with the instances it may go to. */
export type Placeable = Extract<Admission, { kind: 'place' }> & { request: RequestMetadata };

/**
 * The deadline policies' walk: each request of `ordered` once, in that order, admitted against the shared
 * capacity view. Refusals go to `rejections`, requests that must wait are passed over, the rest are yielded.
 */
export function* admitted(
  ordered: readonly RequestMetadata[],
  ctx: SchedulingContext,
  cap: CapacityView,
  options: BasePolicyOptions,
  onInfeasible: InfeasibleAction,
  rejections: Rejection[],
): Generator<Placeable> {
  for (const request of uniqueById(ordered)) {
    const a = admit(ctx, cap, request, options, onInfeasible);
    if (a.kind === 'reject') rejections.push(a.rejection);
    if (a.kind === 'place') yield { ...a, request };
  }
}
