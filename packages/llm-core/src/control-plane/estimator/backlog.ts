// The wait that requests queued in the control plane ahead of a request add to its estimate on each instance.
// The estimator sees only an instance's own load, not the control plane's queue, so without this a request
// with a 2 s deadline behind 200 queued ones would look feasible until its deadline ran out (F-203, F-204).
// Same fluid model as the estimator's queue term (fluidWaitMs): the requests ahead are dealt one at a time to
// the instance where they would start soonest (its free slots first, then whichever drains soonest), each
// taking the estimator's per-request service time there; the request then waits behind its instance's share.
// The dealing is computed in bulk (a level search over the instances), so its cost does not grow with the
// number of requests ahead: admission and the deadline watch ask it for every request, however long the queue.
import type { ExecutionInstance, LatencyEstimator, RequestMetadata } from '../types';
import { fluidWaitMs, hasBreakdown, type DetailedLatencyEstimator, type LatencyBreakdown } from './latency-estimator';

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
  /** Wait before it starts on this instance: the backlog plus the instance's own queue, ms. */
  waitMs: number;
  /** How long each request ahead holds a slot here in this estimate (one turn of the queue), ms. */
  serviceMs: number;
}

/** The instance with nothing running or waiting: what an estimator says then is a request's bare service time. */
function idle(instance: ExecutionInstance): ExecutionInstance {
  return { ...instance, load: { ...instance.load, activeRequests: 0, queuedRequests: 0 } };
}

interface Row {
  occupied: number;
  slots: number;
  serviceMs: number;
  dealt: number;
}

/** An instance's row for a request: its breakdown's figures (when the estimator gives one) and the requests dealt to it. */
export interface BacklogRow extends Row {
  instance: ExecutionInstance;
  /** Whether the estimator gave a breakdown (queueMs and ttftMs are its figures only then). */
  detailed: boolean;
  totalMs: number;
  queueMs: number;
  ttftMs: number | undefined;
}

/** One breakdown read at once and dropped, per row, when the estimator can write into it. */
const scratch: LatencyBreakdown = { queueMs: 0, serviceMs: 0, prefillMs: 0, decodeMs: 0, ttftMs: 0, totalMs: 0 };

const waitAt = (r: Row, extra: number) => fluidWaitMs(r.occupied + extra, r.slots, r.serviceMs);

/**
 * One at a time to the instance where the next would start soonest (earlier rows win ties), through a heap of the
 * rows by that start: O(n × log rows) where a scan of every row per request cost O(n × rows).
 */
function dealOneByOne(rows: Row[], n: number): void {
  if (n <= 0 || rows.length === 0) return;
  if (rows.length === 1) {
    rows[0]!.dealt += n; // one instance takes them all (what the heap below would find, without building it)
    return;
  }
  const key = rows.map((r) => waitAt(r, r.dealt));
  // A min-heap of row indices by (next start, index).
  const heap = rows.map((_, i) => i);
  const less = (a: number, b: number) => (key[a]! < key[b]! || (key[a] === key[b] && a < b));
  const down = (at: number) => {
    for (;;) {
      const l = 2 * at + 1;
      const r = l + 1;
      let m = at;
      if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
      if (m === at) return;
      [heap[at], heap[m]] = [heap[m]!, heap[at]!];
      at = m;
    }
  };
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
  for (let k = 0; k < n; k++) {
    const i = heap[0]!;
    const r = rows[i]!;
    r.dealt += 1;
    key[i] = waitAt(r, r.dealt);
    down(0);
  }
}

/**
 * Deals `ahead` requests as dealOneByOne would, in O(rows × log) instead of O(ahead × rows): free slots
 * first, then each row's start times form the arithmetic sequence wait, wait + step, … (step = service/slots);
 * the level below which the sequences hold at most the requests left is found by bisection, every row takes
 * its values below it, and the few left over go one by one.
 */
export function dealBacklog(rows: Row[], ahead: number): void {
  let left = ahead;
  for (const r of rows) {
    if (left <= 0) break;
    const free = Math.max(0, Math.max(1, Math.floor(r.slots)) - r.occupied - r.dealt);
    const take = Math.min(free, left);
    r.dealt += take;
    left -= take;
  }
  if (left <= rows.length * 2) return dealOneByOne(rows, left);
  const step = (r: Row) => r.serviceMs / Math.max(1, Math.floor(r.slots));
  if (rows.some((r) => step(r) <= 0)) {
    // An instance whose requests take no time absorbs any number at no wait.
    rows.find((r) => step(r) <= 0)!.dealt += left;
    return;
  }
  // Each row's first start and step, computed once: the bisection asks for them at every level (64 × rows).
  const firsts = rows.map((r) => waitAt(r, r.dealt));
  const steps = rows.map(step);
  const below = (k: number, level: number) => (level <= firsts[k]! ? 0 : Math.ceil((level - firsts[k]!) / steps[k]!));
  const count = (level: number) => {
    let n = 0;
    for (let k = 0; k < rows.length; k++) n += below(k, level);
    return n;
  };
  let lo = 0;
  let hi = Math.max(...rows.map((r, k) => firsts[k]! + steps[k]! * left)) + 1;
  for (let i = 0; i < 64 && hi - lo > 1e-9 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (count(mid) <= left) lo = mid;
    else hi = mid;
  }
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k]!;
    const n = below(k, lo);
    r.dealt += n;
    left -= n;
  }
  dealOneByOne(rows, left);
}

/** The instance with every slot taken: a queue drains at the service time of a full batch. */
function full(instance: ExecutionInstance): ExecutionInstance {
  return { ...instance, load: { ...instance.load, activeRequests: Math.max(1, Math.floor(instance.maxConcurrency)), queuedRequests: 0 } };
}

/**
 * The rows of `request` on each of `instances` (same order) once `ahead` queued requests have been dealt: what
 * estimateBehindBacklog reports, before it is made into estimates (admission reads the rows themselves).
 */
export function backlogRows(estimator: LatencyEstimator, request: RequestMetadata, instances: readonly ExecutionInstance[], ahead: number): BacklogRow[] {
  const detailed = hasBreakdown(estimator);
  const into = detailed ? estimator.breakdownInto : undefined;
  const rows = new Array<BacklogRow>(instances.length);
  for (let k = 0; k < instances.length; k++) {
    const instance = instances[k]!;
    const b = detailed ? (into ? into.call(estimator, request, instance, scratch) : estimator.breakdown(request, instance)) : undefined;
    const occupied = Math.max(0, instance.load.activeRequests) + Math.max(0, instance.load.queuedRequests);
    const slots = instance.maxConcurrency;
    // Read before the estimator is asked again (`b` may be the scratch breakdown).
    const bTotalMs = b?.totalMs;
    const queueMs = b?.queueMs ?? 0;
    const ttftMs = b?.ttftMs;
    let serviceMs = b?.serviceMs ?? (ahead > 0 ? estimator.estimate(request, idle(instance)) : 0);
    // Requests ahead that do not fit the free slots wait for a full batch to drain, and a full batch runs
    // slowest: an instance idle or lightly loaded now (a storm's first burst, or the moment after one) would
    // otherwise be credited with the service time of its light load for the whole backlog.
    if (b && occupied < Math.floor(slots) && occupied + ahead >= Math.floor(slots)) {
      const atFull = into ? into.call(estimator, request, full(instance), scratch) : (estimator as DetailedLatencyEstimator).breakdown(request, full(instance));
      serviceMs = Math.max(serviceMs, atFull.serviceMs);
    }
    rows[k] = { instance, detailed: b !== undefined, totalMs: bTotalMs ?? estimator.estimate(request, instance), queueMs, ttftMs, serviceMs, occupied, slots, dealt: 0 };
  }
  if (ahead > 0) dealBacklog(rows, ahead);
  return rows;
}

/** What the requests dealt to a row add to the request's wait there, ms. */
export function rowBacklogMs(r: BacklogRow): number {
  return waitAt(r, r.dealt) - waitAt(r, 0);
}

/** Estimates of `request` on each of `instances` (same order) once `ahead` queued requests have been served first. */
export function estimateBehindBacklog(estimator: LatencyEstimator, request: RequestMetadata, instances: readonly ExecutionInstance[], ahead: number): BacklogEstimate[] {
  return backlogRows(estimator, request, instances, ahead).map((r) => {
    const backlogMs = rowBacklogMs(r);
    const est: BacklogEstimate = { instance: r.instance, ahead: r.dealt, backlogMs, totalMs: r.totalMs + backlogMs, waitMs: backlogMs + r.queueMs, serviceMs: r.serviceMs };
    if (r.detailed) est.ttftMs = (r.ttftMs as number) + backlogMs;
    return est;
  });
}
