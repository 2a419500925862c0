// The slow-instance drain: which instance is an outlier among its peers (pure), and the drain's lifetime.
import { findOutliers, LatencyOutliers, median } from '../../src/control-plane/manager';

const repeat = (v: number, n: number) => Array.from({ length: n }, (_, i) => v + (i % 3));

describe('findOutliers', () => {
  const o = { minSamples: 8, factor: 3 };

  it('flags an instance whose median is more than k× its peers', () => {
    const out = findOutliers(
      [
        { id: 'a', group: 'g', samples: repeat(15, 10) },
        { id: 'b', group: 'g', samples: repeat(16, 10) },
        { id: 'slow', group: 'g', samples: repeat(80, 10) },
      ],
      o,
    );
    expect([...out.keys()]).toEqual(['slow']);
    expect(out.get('slow')).toMatch(/^latency outlier: median 81\.0 ms per token over its last 10 requests, 5\.\d× its peers' 16\.0 ms$/);
  });

  it('needs enough samples on both sides, compares only peers of a group, and tolerates k×', () => {
    expect(findOutliers([{ id: 'a', group: 'g', samples: repeat(15, 10) }, { id: 'slow', group: 'g', samples: repeat(80, 7) }], o).size).toBe(0);
    expect(findOutliers([{ id: 'a', group: 'g', samples: repeat(15, 7) }, { id: 'slow', group: 'g', samples: repeat(80, 10) }], o).size).toBe(0);
    expect(findOutliers([{ id: 'a', group: 'g', samples: repeat(15, 10) }, { id: 'other-model', group: 'h', samples: repeat(80, 10) }], o).size).toBe(0);
    expect(findOutliers([{ id: 'a', group: 'g', samples: repeat(20, 10) }, { id: 'b', group: 'g', samples: repeat(55, 10) }], o).size).toBe(0);
  });

  it('a burst of slow samples is not enough: they must spread over minSpanMs', () => {
    const fast = { id: 'a', group: 'g', samples: repeat(15, 10) };
    expect(findOutliers([fast, { id: 'slow', group: 'g', samples: repeat(80, 10), spanMs: 400 }], { ...o, minSpanMs: 5000 }).size).toBe(0);
    expect(findOutliers([fast, { id: 'slow', group: 'g', samples: repeat(80, 10), spanMs: 6000 }], { ...o, minSpanMs: 5000 }).size).toBe(1);
  });

  it('median', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
});

describe('LatencyOutliers', () => {
  it('drains an outlier for drainMs, then readmits it with a clean window', () => {
    let now = 0;
    const o = new LatencyOutliers({ minSamples: 4, factor: 3, drainMs: 10_000, windowMs: 30_000, minSpanMs: 0, now: () => now });
    for (let i = 0; i < 4; i++) expect(o.observe('fast', 'g', 15)).toBeUndefined();
    for (let i = 0; i < 3; i++) expect(o.observe('slow', 'g', 100)).toBeUndefined();
    expect(o.observe('slow', 'g', 100)).toMatch(/latency outlier/);
    expect(o.drainedReason('slow')).toMatch(/6\.7× its peers/);
    expect(o.drainedReason('fast')).toBeUndefined();
    // Its slow requests still finishing while drained do not count.
    expect(o.observe('slow', 'g', 500)).toBeUndefined();
    now = 9_999;
    expect(o.drainedReason('slow')).toBeDefined();
    now = 10_000;
    expect(o.drainedReason('slow')).toBeUndefined();
    // Back on probation: judged again only on fresh samples (three are not enough).
    for (let i = 0; i < 3; i++) expect(o.observe('slow', 'g', 16)).toBeUndefined();
    expect(o.observe('slow', 'g', 16)).toBeUndefined();
  });

  it('never drains more than half of a group at once', () => {
    const o = new LatencyOutliers({ minSamples: 2, factor: 3, minSpanMs: 0, now: () => 0 });
    for (let i = 0; i < 4; i++) o.observe('fast', 'g', 10);
    for (let i = 0; i < 2; i++) o.observe('slow1', 'g', 100);
    expect(o.drainedReason('slow1')).toBeDefined();
    for (let i = 0; i < 2; i++) o.observe('slow2', 'g', 100);
    expect(o.drainedReason('slow2')).toBeUndefined();
  });

  it('judges an instance only once its slow requests span minSpanMs', () => {
    let now = 0;
    const o = new LatencyOutliers({ minSamples: 3, factor: 3, minSpanMs: 5000, now: () => now });
    for (let i = 0; i < 3; i++) o.observe('fast', 'g', 10);
    for (let i = 0; i < 3; i++) expect(o.observe('slow', 'g', 100)).toBeUndefined();
    now = 5000;
    expect(o.observe('slow', 'g', 100)).toMatch(/latency outlier/);
  });

  it('forgets samples older than the window', () => {
    let now = 0;
    const o = new LatencyOutliers({ minSamples: 4, factor: 3, windowMs: 1000, minSpanMs: 0, now: () => now });
    for (let i = 0; i < 4; i++) o.observe('fast', 'g', 15);
    now = 2000; // the fast peer's samples are too old to judge against
    for (let i = 0; i < 4; i++) expect(o.observe('slow', 'g', 100)).toBeUndefined();
  });
});
