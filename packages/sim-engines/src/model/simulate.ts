// Virtual-time driver of the scheduler: runs a workload through the engine model without sleeping, so the
// model's behaviour (queueing, prefix caching, batching throughput) can be tested exactly and instantly.
import { BatchScheduler, type SeqSpec } from './scheduler';
import { resolveEngineModelParams, type EngineModelParams } from './params';

export interface SimArrival extends SeqSpec {
  /** Arrival time in model milliseconds. */
  atMs: number;
}

export interface SimOutcome {
  id: string;
  arrivalMs: number;
  firstTokenMs: number;
  finishMs: number;
  cachedTokens: number;
  outputTokens: number;
}

export interface SimReport {
  outcomes: Map<string, SimOutcome>;
  steps: number;
  endMs: number;
  maxRunning: number;
  maxWaiting: number;
  maxKvUsage: number;
}

/** Run arrivals (any order) to completion; a step starts when the previous ends or, when idle, at the next arrival. */
export function simulate(arrivals: readonly SimArrival[], overrides: Partial<EngineModelParams> = {}): SimReport {
  const scheduler = new BatchScheduler(resolveEngineModelParams(overrides));
  const pending = [...arrivals].sort((a, b) => a.atMs - b.atMs);
  const outcomes = new Map<string, SimOutcome>();
  let now = 0;
  let steps = 0;
  let maxRunning = 0;
  let maxWaiting = 0;
  let maxKvUsage = 0;
  const arriveUntil = (t: number) => {
    while (pending.length > 0 && (pending[0] as SimArrival).atMs <= t) {
      const a = pending.shift() as SimArrival;
      const { atMs, ...spec } = a;
      scheduler.add(spec);
      outcomes.set(a.id, { id: a.id, arrivalMs: atMs, firstTokenMs: NaN, finishMs: NaN, cachedTokens: 0, outputTokens: a.outputTokens });
    }
  };
  while (pending.length > 0 || scheduler.hasWork()) {
    if (!scheduler.hasWork()) now = Math.max(now, (pending[0] as SimArrival).atMs);
    arriveUntil(now);
    const plan = scheduler.plan();
    if (plan.durationMs === 0) {
      if (pending.length === 0) throw new Error('engine model stalled: waiting sequences can never be admitted');
      now = (pending[0] as SimArrival).atMs;
      continue;
    }
    now += plan.durationMs;
    steps++;
    const result = scheduler.commit(plan);
    for (const a of result.admitted) (outcomes.get(a.id) as SimOutcome).cachedTokens = a.cachedTokens;
    for (const t of result.tokens) {
      const o = outcomes.get(t.id) as SimOutcome;
      if (t.first) o.firstTokenMs = now;
      if (t.finished) o.finishMs = now;
    }
    const s = scheduler.stats();
    maxRunning = Math.max(maxRunning, s.running);
    maxWaiting = Math.max(maxWaiting, s.waiting);
    maxKvUsage = Math.max(maxKvUsage, s.kvUsage);
  }
  return { outcomes, steps, endMs: now, maxRunning, maxWaiting, maxKvUsage };
}
