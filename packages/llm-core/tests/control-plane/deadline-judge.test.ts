// The one deadline judge: end-to-end and first-token deadlines against the estimate behind the queue ahead,
// with one confidence band — meets (the estimate fits), at_risk (only the optimistic bound fits: served),
// cannot (not even that: refused). Admission, the watch and the policies all ask it.
import { judgeDeadline, type LatencyBreakdown } from '../../src/control-plane/estimator';
import { meetsDeadline } from '../../src/control-plane/policies';
import type { DetailedLatencyEstimator } from '../../src/control-plane/estimator';
import type { ExecutionInstance, RequestMetadata } from '../../src/control-plane/types';
import { ctx, inst, req } from './policies-fixtures';

/** Every request: first token after `ttft` ms, done after `total` ms (plus the fluid queue on a busy instance). */
function fixed(ttft: number, total: number): DetailedLatencyEstimator {
  const breakdown = (_r: RequestMetadata, i: ExecutionInstance): LatencyBreakdown => {
    const queueMs = i.load.activeRequests >= i.maxConcurrency ? total : 0;
    return { queueMs, serviceMs: total, prefillMs: ttft, decodeMs: total - ttft, ttftMs: queueMs + ttft, totalMs: queueMs + total };
  };
  return { estimate: (r, i) => breakdown(r, i).totalMs, breakdown };
}

const NOW = 1_000_000;
const at = (over: Partial<RequestMetadata>) => req('r', { arrival: NOW, ...over });

describe('judgeDeadline', () => {
  const est = fixed(200, 1000);
  const free = inst('a', { maxConcurrency: 1 });

  it('says none without a deadline', () => {
    expect(judgeDeadline(est, at({}), [free], { now: NOW }).verdict).toBe('none');
  });

  it('end-to-end: meets when the estimate fits, at risk when only the optimistic bound (×0.5 before data) does, else cannot', () => {
    expect(judgeDeadline(est, at({ sloDeadlineMs: 1200 }), [free], { now: NOW }).verdict).toBe('meets');
    const risky = judgeDeadline(est, at({ sloDeadlineMs: 700 }), [free], { now: NOW });
    expect(risky.verdict).toBe('at_risk');
    expect(risky.optimisticSlackMs).toBeCloseTo(700 - 500, 6);
    expect(judgeDeadline(est, at({ sloDeadlineMs: 400 }), [free], { now: NOW }).verdict).toBe('cannot');
    // A deadline already past is hopeless whatever the estimate.
    expect(judgeDeadline(est, at({ sloDeadlineMs: 5000 }), [free], { now: NOW + 6000 }).verdict).toBe('cannot');
  });

  it('first token: judged on the TTFT part of the estimate, alone or with an end-to-end deadline', () => {
    expect(judgeDeadline(est, at({ ttftDeadlineMs: 250 }), [free], { now: NOW }).verdict).toBe('meets');
    expect(judgeDeadline(est, at({ ttftDeadlineMs: 150 }), [free], { now: NOW }).verdict).toBe('at_risk');
    expect(judgeDeadline(est, at({ ttftDeadlineMs: 90 }), [free], { now: NOW }).verdict).toBe('cannot');
    // The e2e deadline is easy; the first-token one is what makes it hopeless.
    expect(judgeDeadline(est, at({ sloDeadlineMs: 60_000, ttftDeadlineMs: 90 }), [free], { now: NOW }).verdict).toBe('cannot');
  });

  it('counts the queue ahead: the same deadline turns hopeless behind enough requests', () => {
    const r = at({ sloDeadlineMs: 3000 });
    expect(judgeDeadline(est, r, [free], { now: NOW, ahead: 1 }).verdict).toBe('meets');
    expect(judgeDeadline(est, r, [free], { now: NOW, ahead: 3 }).verdict).toBe('at_risk');
    const hopeless = judgeDeadline(est, r, [free], { now: NOW, ahead: 10 });
    expect(hopeless).toMatchObject({ verdict: 'cannot', ahead: 10 });
  });

  it('is the best over the instances, and keeps a verdict per instance', () => {
    const busy = inst('b', { maxConcurrency: 1, load: { activeRequests: 1 } });
    const j = judgeDeadline(est, at({ sloDeadlineMs: 1500 }), [busy, free], { now: NOW });
    expect(j.verdict).toBe('meets');
    expect(j.instances.map((x) => [x.instance.id, x.verdict])).toEqual([
      ['b', 'at_risk'],
      ['a', 'meets'],
    ]);
  });

  it('a higher confidence widens nothing for a fixed estimator, and no instance leaves only the deadline', () => {
    expect(judgeDeadline(est, at({ sloDeadlineMs: 700 }), [], { now: NOW })).toMatchObject({ verdict: 'at_risk', optimisticSlackMs: 700 });
  });

  it('is what the policies call meeting a deadline', () => {
    const c = ctx([free], { estimator: est, now: NOW });
    expect(meetsDeadline(c, at({ sloDeadlineMs: 1200 }), free)).toBe(true);
    expect(meetsDeadline(c, at({ sloDeadlineMs: 700 }), free)).toBe(false);
    expect(meetsDeadline(c, at({ ttftDeadlineMs: 150 }), free)).toBe(false);
    expect(meetsDeadline(c, at({}), free)).toBe(true);
  });
});
