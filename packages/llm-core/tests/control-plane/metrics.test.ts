import {
  ControlPlaneManager,
  MetricsCollector,
  RequestPriority,
  RequestStatus,
  RequestType,
  type RequestRecord,
} from '../../src';
import { recordFromRequest } from '../../src/control-plane/metrics';
import { inst } from './policies-fixtures';

const { HIGH, NORMAL, LOW } = RequestPriority;

function fakeClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('MetricsCollector', () => {
  it('reports percentiles of known inputs', () => {
    const clock = fakeClock();
    const m = new MetricsCollector({ clock: clock.now });
    for (let v = 1; v <= 100; v++) {
      m.record({ requestId: `r${v}`, outcome: 'completed', e2eMs: v, ttftMs: v / 10, queueWaitMs: 2 * v, tpotMs: 0.5 });
    }
    const s = m.snapshot();
    expect(s.latency.e2eMs).toMatchObject({ count: 100, min: 1, max: 100 });
    // HDR keeps 3 significant digits: allow the last one.
    expect(s.latency.e2eMs.p50).toBeCloseTo(50, 0);
    expect(s.latency.e2eMs.p95).toBeCloseTo(95, 0);
    expect(s.latency.e2eMs.p99).toBeCloseTo(99, 0);
    expect(s.latency.e2eMs.mean).toBeCloseTo(50.5, 1);
    expect(s.latency.ttftMs.p50).toBeCloseTo(5, 1);
    expect(s.latency.queueWaitMs.p99).toBeCloseTo(198, 0);
    expect(s.latency.tpotMs).toMatchObject({ count: 100, p50: 0.5 });
  });

  it('computes SLO compliance overall and per priority', () => {
    const m = new MetricsCollector({ clock: fakeClock().now });
    const rec = (over: Partial<RequestRecord>) => m.record({ requestId: 'x', outcome: 'completed', ...over });
    // HIGH: 2 of 3 met (one too slow).
    rec({ priority: HIGH, sloDeadlineMs: 100, e2eMs: 80 });
    rec({ priority: HIGH, sloDeadlineMs: 100, e2eMs: 99 });
    rec({ priority: HIGH, sloDeadlineMs: 100, e2eMs: 150 });
    // LOW: 0 of 2 (one failed, one rejected); a cancelled one is not counted; one without deadline neither.
    rec({ priority: LOW, sloDeadlineMs: 500, outcome: 'failed' });
    rec({ priority: LOW, sloDeadlineMs: 500, outcome: 'rejected', rejectionCode: 'deadline_infeasible' });
    rec({ priority: LOW, sloDeadlineMs: 500, outcome: 'cancelled' });
    rec({ priority: LOW, e2eMs: 10 });
    // NORMAL: TTFT deadline missed although e2e is fine.
    rec({ priority: NORMAL, sloDeadlineMs: 1_000, ttftDeadlineMs: 50, e2eMs: 300, ttftMs: 70 });

    const s = m.snapshot();
    expect(s.slo.byPriority.HIGH).toEqual({ withDeadline: 3, met: 2, missed: 1, compliance: 0.667 });
    expect(s.slo.byPriority.LOW).toEqual({ withDeadline: 2, met: 0, missed: 2, compliance: 0 });
    expect(s.slo.byPriority.NORMAL).toMatchObject({ met: 0, missed: 1 });
    expect(s.slo.byPriority.CRITICAL).toEqual({ withDeadline: 0, met: 0, missed: 0, compliance: null });
    expect(s.slo.overall).toEqual({ withDeadline: 6, met: 2, missed: 4, compliance: 0.333 });
    expect(s.requests).toEqual({ total: 8, completed: 5, failed: 1, rejected: 1, cancelled: 1 });
    expect(s.priorities.LOW).toMatchObject({ total: 4, failed: 1, rejected: 1, cancelled: 1, completed: 1 });
    expect(s.rejections).toEqual({ deadline_infeasible: 1 });
  });

  it('measures throughput over a sliding window', () => {
    const clock = fakeClock();
    const m = new MetricsCollector({ clock: clock.now, windowMs: 10_000 });
    clock.advance(10_000);
    for (let k = 0; k < 20; k++) {
      m.record({ requestId: `r${k}`, outcome: 'completed', promptTokens: 10, completionTokens: 40, finishedAt: clock.now() - 9_000 + k * 100 });
    }
    m.record({ requestId: 'f', outcome: 'failed' }); // failures are not throughput
    expect(m.snapshot().throughput).toEqual({ requestsPerSec: 2, tokensPerSec: 100, promptTokensPerSec: 20, completionTokensPerSec: 80 });
    clock.advance(2_000); // the first ~10 completions fall out of the window
    const later = m.snapshot();
    expect(later.throughput.requestsPerSec).toBeLessThan(2);
    expect(later.throughput.requestsPerSec).toBeGreaterThan(0.5);
    expect(later.tokens).toEqual({ prompt: 200, completion: 800 }); // totals never shrink
  });

  describe('recent-window latency', () => {
    const slow = (m: MetricsCollector, n: number) => {
      for (let k = 0; k < n; k++) m.record({ requestId: `s${k}`, outcome: 'completed', e2eMs: 5_000, ttftMs: 2_000, queueWaitMs: 1_500, tpotMs: 40 });
    };
    const fast = (m: MetricsCollector, n: number) => {
      for (let k = 0; k < n; k++) m.record({ requestId: `f${k}`, outcome: 'completed', e2eMs: 50 + (k % 10), ttftMs: 10, queueWaitMs: 1, tpotMs: 2 });
    };

    it('forgets a burst of slow requests once the window has passed, while the cumulative figures keep it', () => {
      const clock = fakeClock();
      const m = new MetricsCollector({ clock: clock.now }); // default: 6 × 10 s
      slow(m, 200);
      clock.advance(1_000);
      const during = m.snapshot();
      // HDR keeps 3 significant digits: allow the last one.
      expect(during.recent.latency.e2eMs.count).toBe(200);
      expect(during.recent.latency.e2eMs.p99).toBeCloseTo(5_000, -1);
      expect(during.recent).toMatchObject({ windowMs: 60_000, spanMs: 1_000 }); // no more history than the uptime

      clock.advance(61_000); // the slow burst is now older than the window
      fast(m, 1_000);
      const after = m.snapshot();
      expect(after.recent.latency.e2eMs.count).toBe(1_000);
      expect(after.recent.latency.e2eMs.p99).toBeCloseTo(59, 0);
      expect(after.recent.latency.e2eMs.max).toBeLessThan(100);
      expect(after.recent.latency.ttftMs.p99).toBeCloseTo(10, 1);
      expect(after.recent.latency.queueWaitMs.p99).toBeCloseTo(1, 2);
      expect(after.recent.latency.tpotMs).toMatchObject({ count: 1_000 });
      expect(after.recent.latency.tpotMs.p99).toBeCloseTo(2, 2);
      // 200 of 1,200 are slow (16.7 %), so the cumulative p95 and p99 still show the burst.
      expect(after.latency.e2eMs).toMatchObject({ count: 1_200, max: 5_000 });
      expect(after.latency.e2eMs.p99).toBeCloseTo(5_000, -1);
      expect(after.latency.ttftMs.p99).toBeCloseTo(2_000, -1);
      expect(after.recent.spanMs).toBeGreaterThanOrEqual(50_000);
      expect(after.recent.spanMs).toBeLessThanOrEqual(60_000);
    });

    it('ages values out slice by slice: kept for at least (slices-1) slices, gone after all of them', () => {
      const clock = fakeClock(0);
      const m = new MetricsCollector({ clock: clock.now, windowMs: 4_000, windowSlices: 4 });
      clock.advance(10_000); // slice boundary: the burst lands at the start of a 1 s slice
      slow(m, 10);
      clock.advance(3_999);
      expect(m.snapshot().recent.latency.e2eMs.count).toBe(10);
      clock.advance(1);
      expect(m.snapshot().recent.latency.e2eMs.count).toBe(0);
      expect(m.snapshot().recent.latency.e2eMs).toEqual({ count: 0, min: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 });
      // Recording after a long quiet spell recycles the ring's slots.
      clock.advance(123_456);
      fast(m, 10);
      expect(m.snapshot().recent.latency.e2eMs.count).toBe(10);
      expect(m.snapshot().recent.latency.e2eMs.max).toBeCloseTo(59, 0);
      expect(m.snapshot().latency.e2eMs.count).toBe(20);
    });

    it('places a record at its finish time: one that finished before the window counts only cumulatively', () => {
      const clock = fakeClock();
      const m = new MetricsCollector({ clock: clock.now, windowMs: 10_000 });
      clock.advance(60_000);
      m.record({ requestId: 'old', outcome: 'completed', e2eMs: 900, finishedAt: clock.now() - 30_000 });
      m.record({ requestId: 'new', outcome: 'completed', e2eMs: 100, finishedAt: clock.now() - 1_000 });
      m.record({ requestId: 'skewed', outcome: 'completed', e2eMs: 200, finishedAt: clock.now() + 5_000 }); // counts as now
      m.record({ requestId: 'failed', outcome: 'failed', e2eMs: 10_000 }); // like the cumulative e2e: completed only
      const s = m.snapshot();
      expect(s.latency.e2eMs).toMatchObject({ count: 3, max: 900 });
      expect(s.recent.latency.e2eMs.count).toBe(2);
      expect(s.recent.latency.e2eMs.min).toBeCloseTo(100, 0);
      expect(s.recent.latency.e2eMs.max).toBeCloseTo(200, 0);
    });

    it('starts over on reset and rejects a bad slice count', () => {
      const clock = fakeClock();
      const m = new MetricsCollector({ clock: clock.now });
      slow(m, 5);
      m.reset();
      expect(m.snapshot().recent.latency.e2eMs.count).toBe(0);
      expect(() => new MetricsCollector({ windowSlices: 0 })).toThrow(RangeError);
      expect(() => new MetricsCollector({ windowSlices: 2.5 })).toThrow(RangeError);
    });
  });

  it('keeps per-instance counts, latency and the last observed load (without secrets)', () => {
    const m = new MetricsCollector({ clock: fakeClock().now });
    m.record({ requestId: '1', outcome: 'completed', instanceId: 'a', e2eMs: 100, ttftMs: 20, completionTokens: 5 });
    m.record({ requestId: '2', outcome: 'completed', instanceId: 'a', e2eMs: 300, ttftMs: 40, completionTokens: 7 });
    m.record({ requestId: '3', outcome: 'failed', instanceId: 'b' });
    m.observeInstances([inst('a', { apiKey: 'sk-secret', load: { activeRequests: 3, kvCacheUsage: 0.4 } }), inst('idle')]);
    const s = m.snapshot();
    expect(s.instances.a).toMatchObject({ total: 2, completed: 2, completionTokens: 12, load: { activeRequests: 3, kvCacheUsage: 0.4 } });
    expect(s.instances.a.e2eMs).toMatchObject({ count: 2, min: 100, max: 300 });
    expect(s.instances.b).toMatchObject({ total: 1, failed: 1 });
    expect(s.instances.idle.total).toBe(0);
    const json = JSON.stringify(s);
    expect(json).not.toContain('sk-secret');
    expect(JSON.parse(json)).toEqual(s); // plain JSON, nothing lost
  });

  it('derives a record from a request’s timestamps', () => {
    const rec = recordFromRequest(
      {
        id: 'r',
        type: RequestType.LLM_CHAT,
        model: 'm',
        priority: HIGH,
        status: RequestStatus.COMPLETED,
        sloDeadlineMs: 1_000,
        promptTokens: 12,
        timestamps: { arrival: 1_000, queued: 1_001, scheduled: 1_051, started: 1_052, firstToken: 1_200, finished: 1_600 },
      },
      'completed',
      { instanceId: 'a', completionTokens: 11 },
    );
    expect(rec).toMatchObject({ queueWaitMs: 50, ttftMs: 200, e2eMs: 600, tpotMs: 40, promptTokens: 12, instanceId: 'a', finishedAt: 1_600 });
    const m = new MetricsCollector({ clock: () => 2_000 });
    m.record(rec);
    expect(m.snapshot().slo.byPriority.HIGH.met).toBe(1);
  });
});

describe('ControlPlaneManager metrics windows', () => {
  it('takes the window of its metrics from its options', async () => {
    const m = new ControlPlaneManager({ metrics: { windowMs: 120_000, windowSlices: 12 } });
    const plain = new ControlPlaneManager();
    try {
      expect(m.getMetrics().recent.windowMs).toBe(120_000);
      expect(plain.getMetrics().recent.windowMs).toBe(60_000);
    } finally {
      await Promise.all([m.close(), plain.close()]);
    }
  });
});
