import { RequestType, createLatencyEstimator } from '../../src';
import { inst, req } from './policies-fixtures';

describe('createLatencyEstimator', () => {
  const est = createLatencyEstimator();

  it('grows with prompt length and output length', () => {
    const i = inst('g');
    expect(est.estimate(req('a', { promptTokens: 4_000 }), i)).toBeGreaterThan(est.estimate(req('b', { promptTokens: 40 }), i));
    expect(est.estimate(req('a', { maxTokens: 512 }), i)).toBeGreaterThan(est.estimate(req('b', { maxTokens: 16 }), i));
  });

  it('adds queue wait only when the instance is saturated, growing with the backlog', () => {
    const r = req('r');
    const idle = est.breakdown(r, inst('g', { maxConcurrency: 4, load: { activeRequests: 2 } }));
    const full = est.breakdown(r, inst('g', { maxConcurrency: 4, load: { activeRequests: 4 } }));
    const backlog = est.breakdown(r, inst('g', { maxConcurrency: 4, load: { activeRequests: 4, queuedRequests: 8 } }));
    expect(idle.queueMs).toBe(0);
    expect(full.queueMs).toBeGreaterThan(0);
    expect(backlog.queueMs).toBeGreaterThan(full.queueMs);
    expect(backlog.totalMs).toBeCloseTo(backlog.queueMs + backlog.prefillMs + backlog.decodeMs, 6);
    expect(backlog.ttftMs).toBeCloseTo(backlog.queueMs + backlog.prefillMs, 6);
  });

  it('trusts an observed TTFT when it is slower than the default rate', () => {
    const slow = est.breakdown(req('r'), inst('s', { load: { ewmaTtftMs: 900 } }));
    expect(slow.prefillMs).toBeGreaterThanOrEqual(900);
  });

  it('estimates embeddings without a decode phase and rejects nonsense parameters', () => {
    expect(est.breakdown(req('e', { type: RequestType.EMBEDDING }), inst('e')).decodeMs).toBe(0);
    expect(() => createLatencyEstimator({ decodeTokensPerSec: 0 })).toThrow(/decodeTokensPerSec/);
  });
});
