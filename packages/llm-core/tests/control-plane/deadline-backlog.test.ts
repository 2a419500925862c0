// The backlog term of deadline feasibility (F-203/F-204): how many queued requests the policy serves before a
// given one (by the policy's own order), and the wait they add on each instance in the estimator's fluid model.
import { createLatencyEstimator, createLearnedLatencyEstimator, estimateBehindBacklog, fluidWaitMs } from '../../src/control-plane/estimator';
import { countAhead } from '../../src/control-plane/manager/backlog';
import { createPolicy } from '../../src/control-plane/policies';
import { InstanceType, RequestPriority, RequestType, type LatencyEstimator, type SchedulingPolicy } from '../../src/control-plane/types';
import { inst, req, withLoad } from './policies-fixtures';

describe('estimateBehindBacklog', () => {
  const est = createLatencyEstimator();
  const r = req('r');

  it('adds nothing with nothing ahead', () => {
    const i = inst('a', { maxConcurrency: 2, load: { activeRequests: 2 } });
    const [e] = estimateBehindBacklog(est, r, [i], 0);
    expect(e).toMatchObject({ ahead: 0, backlogMs: 0 });
    expect(e!.totalMs).toBeCloseTo(est.estimate(r, i), 6);
    expect(e!.ttftMs).toBeCloseTo(est.breakdown(r, i).ttftMs, 6);
  });

  it('agrees with the estimator given the same requests in the instance queue', () => {
    const i = inst('a', { maxConcurrency: 4, load: { activeRequests: 3, ewmaLatencyMs: 800 } });
    const [e] = estimateBehindBacklog(est, r, [i], 9);
    expect(e!.ahead).toBe(9);
    expect(e!.totalMs).toBeCloseTo(est.estimate(r, withLoad(i, { queuedRequests: 9 })), 6);
    // 3 running + 9 ahead on 4 slots: it waits for 9 of them to finish, 4 at a time, 800 ms each.
    expect(e!.totalMs - e!.backlogMs).toBeCloseTo(est.estimate(r, i), 6);
    expect(e!.backlogMs).toBeCloseTo((9 / 4) * 800, 6);
  });

  it('fills free slots first, then spreads the rest over every slot', () => {
    const service = 1000;
    const fixed: LatencyEstimator = { estimate: () => service };
    const a = inst('a', { maxConcurrency: 4, load: { activeRequests: 2 } });
    const b = inst('b', { maxConcurrency: 4, load: { activeRequests: 4 } });
    // Two ahead take a's free slots: the request itself then waits a quarter of a service time on either.
    const two = estimateBehindBacklog(fixed, r, [a, b], 2);
    expect(two.map((e) => e.ahead)).toEqual([2, 0]);
    expect(two[0]!.backlogMs).toBeCloseTo(service / 4, 6);
    expect(two[1]!.backlogMs).toBe(0);
    // 2 + 16 ahead: a's free slots, then 8 on each 4-slot instance — two full turns of the queue on both.
    const many = estimateBehindBacklog(fixed, r, [a, b], 18);
    expect(many.map((e) => e.ahead)).toEqual([10, 8]);
    // A fixed estimate leaves each instance's own queue out; the backlog adds only what the requests ahead add.
    expect(many[0]!.backlogMs).toBeCloseTo(fluidWaitMs(2 + 10, 4, service), 6);
    expect(many[1]!.backlogMs).toBeCloseTo(fluidWaitMs(4 + 8, 4, service) - fluidWaitMs(4, 4, service), 6);
    expect(many[1]!.totalMs).toBeCloseTo(service + 2 * service, 6);
  });

  it('drains a backlog that fills the slots at the service time of a full batch, not of the light load measured before', () => {
    const learned = createLearnedLatencyEstimator();
    // Measured at light load: 200 ms a request. Idle now, with 4 slots and 8 requests ahead of this one.
    const idle = inst('a', { maxConcurrency: 4, load: { activeRequests: 0, ewmaLatencyMs: 200 } });
    const fullService = learned.breakdown(r, withLoad(idle, { activeRequests: 4 })).serviceMs;
    expect(fullService).toBeGreaterThan(200);
    const [e] = estimateBehindBacklog(learned, r, [idle], 8);
    // 4 take the free slots; the other 4 and this request wait for full batches to drain.
    expect(e!.backlogMs).toBeCloseTo(fluidWaitMs(8, 4, fullService), 6);
    // Requests that only fill free slots add no wait, whatever the service time.
    expect(estimateBehindBacklog(learned, r, [idle], 3)[0]!.backlogMs).toBe(0);
  });

  it('takes a plain estimator at its word for the service time of each request ahead', () => {
    const fixed: LatencyEstimator = { estimate: () => 100 };
    const busy = inst('a', { maxConcurrency: 1, load: { activeRequests: 1 } });
    const [e] = estimateBehindBacklog(fixed, r, [busy], 5);
    expect(e).toMatchObject({ ahead: 5, backlogMs: 500, totalMs: 600 });
    expect(e!.ttftMs).toBeUndefined();
  });
});

describe('countAhead', () => {
  const serving = [inst('a')];
  const at = (id: string, arrival: number, over: Parameters<typeof req>[1] = {}) => req(id, { arrival, ...over });
  const low = [0, 1, 2].map((n) => at(`low${n}`, n, { priority: RequestPriority.LOW, sloDeadlineMs: 30_000 }));
  const high = [at('high0', 3, { priority: RequestPriority.HIGH })];
  const queued = [...low, ...high];
  const policy = (name: string) => createPolicy(name);

  it('fifo: everything queued before it', () => {
    const r = at('r', 10, { priority: RequestPriority.HIGH, sloDeadlineMs: 1000 });
    expect(countAhead(policy('fifo'), queued, r, serving, 10)).toBe(4);
    expect(countAhead(policy('cost_optimized'), queued, r, serving, 10)).toBe(4);
    // Already queued: only those that arrived before it.
    expect(countAhead(policy('fifo'), queued, low[1]!, serving, 10)).toBe(1);
  });

  it('priority: the requests of a higher or equal class', () => {
    const r = at('r', 10, { priority: RequestPriority.HIGH, sloDeadlineMs: 1000 });
    expect(countAhead(policy('priority'), queued, r, serving, 10)).toBe(1);
    const crit = at('c', 10, { priority: RequestPriority.CRITICAL, sloDeadlineMs: 1000 });
    expect(countAhead(policy('priority'), queued, crit, serving, 10)).toBe(0);
    // Aging (5 s a class by default) lifts LOW requests without a deadline level with a HIGH arriving 10 s later,
    // and they came first; the LOW ones with a deadline keep their class (only the aged HIGH one is ahead).
    const later = at('r', 10_010, { priority: RequestPriority.HIGH, sloDeadlineMs: 1000 });
    expect(countAhead(policy('priority'), queued, later, serving, 10_010)).toBe(1);
    const patient = [0, 1, 2].map((n) => at(`plain${n}`, n, { priority: RequestPriority.LOW }));
    expect(countAhead(policy('priority'), [...patient, ...high], later, serving, 10_010)).toBe(4);
  });

  it('slo_aware (and adaptive with deadlines queued): the requests with earlier deadlines', () => {
    const early = at('r', 10, { sloDeadlineMs: 1000 });
    const late = at('r', 10, { sloDeadlineMs: 50_000 });
    for (const name of ['slo_aware', 'adaptive']) {
      expect(countAhead(policy(name), queued, early, serving, 10)).toBe(0);
      // Later than the LOW ones' 30 s, earlier than HIGH's best-effort 60 s horizon.
      expect(countAhead(policy(name), queued, late, serving, 10)).toBe(3);
    }
  });

  it('counts only the requests that compete for the same instances', () => {
    const other = [at('x0', 0, { model: 'other' }), at('e0', 1, { type: RequestType.EMBEDDING })];
    const r = at('r', 10, { sloDeadlineMs: 1000 });
    expect(countAhead(policy('fifo'), [...other, ...queued], r, serving, 10)).toBe(4);
  });

  it('hybrid: embeddings on a shared instance count ahead only when they have priority', () => {
    const shared = [inst('s', { type: InstanceType.LLM_EMBEDDING })];
    const emb = at('e0', 5, { type: RequestType.EMBEDDING });
    const r = at('r', 10, { sloDeadlineMs: 1000 });
    const hybrid = (embeddingPriority: 'high' | 'low') => createPolicy('hybrid', { embeddingPriority, llmFallbackPolicy: 'slo_aware' });
    expect(countAhead(hybrid('high'), [emb, ...queued], r, shared, 10)).toBe(1);
    expect(countAhead(hybrid('low'), [emb, ...queued], r, shared, 10)).toBe(0);
  });

  it('a policy that does not give its order is taken to serve in arrival order', () => {
    const bare: SchedulingPolicy = { name: 'bare', schedule: () => ({ decisions: [], rejections: [] }) };
    expect(countAhead(bare, queued, at('r', 10, { sloDeadlineMs: 1000 }), serving, 10)).toBe(4);
    expect(countAhead(bare, [], at('r', 10, { sloDeadlineMs: 1000 }), serving, 10)).toBe(0);
  });
});
