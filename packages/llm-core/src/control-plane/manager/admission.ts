// Admission control: given the registered instances, the queue and the estimator, everything that can be
// refused at once is refused here, with a reason. The caller records refusals and throws.
//   - nothing serves it (no_instance / model_not_found), or the queue is at its hard bound (queue_full);
//   - goodput first: a request with a deadline is refused only when the deadline judge is confident it cannot
//     be met (its optimistic bound behind the queue ahead is already past it); one that may make it is queued
//     in the policy's order, and the queued-deadline watch refuses it later if it becomes hopeless. Under a
//     deadline-blind policy (fifo) a request with a deadline is queued like a plain queue would: never refused
//     by deadline, and its deadline, not the wait budget, is what it waits for;
//   - overload: a request without a deadline is refused when the wait it would queue for (behind what the
//     policy serves first, so urgent classes pass ahead of patient ones) exceeds its class's wait budget, with
//     an honest Retry-After: when the queue ahead should have drained to within the budget.
// In shadow mode the predictive refusals (deadline and wait budget) are not made, only noted, so that they can
// be compared with what really happened (admission-audit.ts).
import { backlogRows, fluidWaitMs, judgeDeadline, rowBacklogMs } from '../estimator';
import { PRIORITY_NAMES, type ExecutionInstance, type LatencyEstimator, type PriorityName, type RequestMetadata } from '../types';
import { aheadPhrase } from './backlog';
import { ControlPlaneError, RequestRejectedError } from './errors';
import type { RefusalPacer } from './refusal-pacer';
import type { ServingLists } from './serving-lists';

/** Default queue-wait budget of every class, ms: admitted requests should not wait longer than this. */
export const DEFAULT_WAIT_BUDGET_MS = 2_000;

export interface AdmissionOptions {
  /**
   * Longest expected queue wait a request without a deadline is admitted with, ms: one number for every class
   * or per class name (HIGH, NORMAL, …; classes not named keep the default 2,000). 0 or Infinity: no bound.
   */
  waitBudgetMs?: number | Partial<Record<PriorityName, number>>;
  /** Admit everything and only note what admission would have refused (default false). */
  shadow?: boolean;
  /** Confidence of the deadline judge (default 0.98): a request is refused only when its optimistic bound misses. */
  confidence?: number;
}

export interface AdmissionContext {
  /** The registered instances (healthy or not) that serve the request's type, its model, and the healthy ones of those. */
  serving: (meta: RequestMetadata) => ServingLists;
  queueSize: () => number;
  maxQueueSize: number;
  estimator: LatencyEstimator;
  /** Runs a dispatch turn now: the queue may hold requests that only wait for it (a burst in one tick). */
  dispatchNow: () => void;
  /** Queued requests the policy would serve before this one, at `now`, that compete with it for `serving` (backlog.ts). */
  countAhead: (meta: RequestMetadata, serving: readonly ExecutionInstance[], now: number) => number;
  /**
   * The clock as the request came in, when the caller has just read it (the manager: its arrival time, read in the
   * same synchronous step): admission then reads it once rather than again. Read afresh after a dispatch turn.
   */
  now?: number;
  /** Per-class budgets resolved (resolveWaitBudgets). */
  waitBudgets: readonly number[];
  /** actual/predicted queue wait of admitted requests at the budget's quantile (wait-calibration.ts; default 1). */
  waitFactor?: () => number;
  /** Whether enough admitted requests' waits were measured for waitFactor to be their own (default true). */
  waitCalibrated?: () => boolean;
  /** Spreads the Retry-After of wait-budget refusals (refusal-pacer.ts). */
  pacer?: RefusalPacer;
  confidence?: number;
  /** False under a deadline-blind policy (SchedulingPolicy.judgesDeadlines): no deadline_infeasible here. */
  judgesDeadlines?: boolean;
}

export interface AdmissionVerdict {
  /** Refused now. */
  refusal?: RequestRejectedError | ControlPlaneError;
  /** Shadow mode: what would have been refused (the request is admitted). */
  wouldRefuse?: RequestRejectedError;
  /** The refusal is a prediction (deadline or wait budget), not a fact such as a missing model. */
  predictive?: boolean;
  /** The queue wait predicted for an admitted request without a deadline (to score the prediction later). */
  predictedWaitMs?: number;
}

/** The common answers, shared (a verdict is only read): admitted with no wait to score, and no prediction made. */
const ADMITTED: AdmissionVerdict = Object.freeze({});
const NO_PREDICTION: Prediction = Object.freeze({});

interface Prediction {
  refusal?: RequestRejectedError;
  waitMs?: number;
}

/** What predictiveRefusal() found when it predicted a wait: one object refilled at each call, read at once by its caller. */
const scratchPrediction: Prediction = { refusal: undefined, waitMs: undefined };
function prediction(refusal: RequestRejectedError | undefined, waitMs: number): Prediction {
  scratchPrediction.refusal = refusal;
  scratchPrediction.waitMs = waitMs;
  return scratchPrediction;
}

export function resolveWaitBudgets(budget: AdmissionOptions['waitBudgetMs']): number[] {
  const valid = (v: number, name: string) => {
    if (!(v >= 0)) throw new RangeError(`waitBudgetMs${name} must be a non-negative number of ms, got ${String(v)}`);
    return v === 0 ? Infinity : v;
  };
  if (typeof budget === 'number') return PRIORITY_NAMES.map(() => valid(budget, ''));
  return PRIORITY_NAMES.map((name) => valid(budget?.[name] ?? DEFAULT_WAIT_BUDGET_MS, `.${name}`));
}

/** The refusal for this request (or, in shadow mode, the refusal it escaped), or nothing when it may be queued. */
export function admissionVerdict(meta: RequestMetadata, ctx: AdmissionContext, shadow = false): AdmissionVerdict {
  const { ofType, compatible, healthy } = ctx.serving(meta);
  if (ofType.length === 0) return { refusal: new RequestRejectedError('no_instance', `no instance serves ${meta.type} requests`, meta.id, 5) };
  if (compatible.length === 0) {
    const models = [...new Set(ofType.flatMap((i) => i.models))];
    return { refusal: new ControlPlaneError(`model "${meta.model}" is not served here; available: ${models.join(', ')}`, { status: 404, type: 'invalid_request_error', code: 'model_not_found', requestId: meta.id }) };
  }
  if (healthy.length === 0) return { refusal: new RequestRejectedError('no_instance', `every instance serving ${meta.model || meta.type} is unhealthy`, meta.id, 5) };

  let now = ctx.now;
  if (ctx.queueSize() >= ctx.maxQueueSize) {
    ctx.dispatchNow();
    now = undefined; // a dispatch turn took time
  }
  if (ctx.queueSize() >= ctx.maxQueueSize) {
    return { refusal: new RequestRejectedError('queue_full', `queue is full (${ctx.queueSize()} requests waiting)`, meta.id, retryAfterSec(healthy, ctx.queueSize())) };
  }
  const { refusal: predicted, waitMs } = predictiveRefusal(meta, healthy, ctx, now ?? Date.now());
  if (!predicted) return waitMs === undefined ? ADMITTED : { predictedWaitMs: waitMs };
  return shadow ? { wouldRefuse: predicted, predictedWaitMs: waitMs } : { refusal: predicted, predictive: true };
}

function predictiveRefusal(meta: RequestMetadata, healthy: readonly ExecutionInstance[], ctx: AdmissionContext, now: number): Prediction {
  const withDeadline = meta.sloDeadlineMs !== undefined || meta.ttftDeadlineMs !== undefined;
  // A deadline-blind policy queues a request with a deadline as it comes: nothing to predict.
  if (withDeadline && ctx.judgesDeadlines === false) return NO_PREDICTION;
  const ahead = ctx.countAhead(meta, healthy, now);
  if (withDeadline) {
    // The deadline is this request's own budget: it is refused only when confidently hopeless.
    const j = judgeDeadline(ctx.estimator, meta, healthy, { now, ahead, confidence: ctx.confidence });
    if (j.verdict !== 'cannot') return NO_PREDICTION;
    const which = meta.sloDeadlineMs !== undefined ? `deadline ${meta.sloDeadlineMs} ms` : `first-token deadline ${meta.ttftDeadlineMs} ms`;
    const why = `${which} cannot be met (best estimate ${Math.round(j.bestEstimateMs)} ms with ${aheadPhrase(ahead)}, ${Math.round(j.leftMs)} ms left)`;
    return { refusal: new RequestRejectedError('deadline_infeasible', why, meta.id, retryAfterSec(healthy, ctx.queueSize())) };
  }
  const budget = ctx.waitBudgets[Math.min(ctx.waitBudgets.length - 1, Math.max(0, meta.priority))] ?? Infinity;
  if (!Number.isFinite(budget) || ahead === 0) return NO_PREDICTION;
  // The wait behind the requests served first, on the instance where it is shortest.
  let waitMs = Infinity;
  const calibrated = ctx.waitCalibrated?.() ?? true;
  // The rows of the backlog estimate, read as they are (no estimate objects made for them).
  for (const r of backlogRows(ctx.estimator, meta, healthy, ahead)) {
    // An instance that has not finished a request yet has no measured drain rate: no confident wait there.
    if (!(r.instance.load.ewmaLatencyMs > 0)) return NO_PREDICTION;
    const rowWaitMs = rowBacklogMs(r) + r.queueMs;
    waitMs = Math.min(waitMs, calibrated ? rowWaitMs : wholeTurns(rowWaitMs, r.serviceMs));
  }
  // Scaled by how much longer admitted requests really waited than predicted, at the budget's quantile.
  const pessimistic = waitMs * (ctx.waitFactor?.() ?? 1);
  if (pessimistic <= budget) return prediction(undefined, waitMs);
  const name = PRIORITY_NAMES[meta.priority] ?? String(meta.priority);
  // Honest Retry-After: the requests ahead drain at the rate that gave this wait, so the queue is back within
  // budget after the excess has drained; and the callers refused just before this one will want those places
  // first, so it is told to come back after them too (which also spreads a storm's retries out).
  const drainPerMs = waitMs > 0 ? ahead / waitMs : 0;
  const behind = ctx.pacer && drainPerMs > 0 ? ctx.pacer.refused(Date.now()) / drainPerMs : 0;
  const retry = Math.max(1, Math.ceil((pessimistic - budget + behind) / 1000));
  const refusal = new RequestRejectedError('queue_full', `queue wait of about ${Math.round(pessimistic)} ms (${aheadPhrase(ahead)}) exceeds the ${name} budget of ${Math.round(budget)} ms`, meta.id, retry);
  return prediction(refusal, waitMs);
}

/**
 * Before admitted waits have been measured, a wait longer than one turn of the queue (one service time) counts
 * whole turns. The fluid model spreads completions evenly, but an engine given a burst of like requests finishes
 * them in waves a service time apart: a request 1.02 turns back waits two whole turns, twice the prediction (a
 * storm's first burst admitted a few requests into a third wave that way, past the budget). The first turn keeps
 * the fluid figure, so that a slow engine still queues some work and the waits get measured.
 */
function wholeTurns(waitMs: number, serviceMs: number): number {
  if (!(serviceMs > 0) || waitMs <= serviceMs) return waitMs;
  return Math.ceil(waitMs / serviceMs - 1e-9) * serviceMs;
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
