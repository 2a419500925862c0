// The per-request series kept by handle read back exactly as prom-client's own Counter and Histogram would: the same
// /metrics text and the same JSON, for the same updates (labelled or not, values past the last bucket, zeroed series).
import { Counter, Histogram, Registry } from 'prom-client';
import { SeriesCounter, SeriesHistogram } from '../../src/server/metrics/series-metrics';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

it('reads back as prom-client does', async () => {
  const ours = new Registry();
  const theirs = new Registry();
  const buckets = [0.001, 0.01, 0.1, 1, 10];
  const labelNames = ['model_name', 'instance'];
  const h1 = new SeriesHistogram({ name: 'x_seconds', help: 'x', labelNames, buckets, registers: [ours] });
  const h2 = new Histogram({ name: 'x_seconds', help: 'x', labelNames, buckets, registers: [theirs] });
  const q1 = new SeriesHistogram({ name: 'q_seconds', help: 'q', buckets, registers: [ours] });
  const q2 = new Histogram({ name: 'q_seconds', help: 'q', buckets, registers: [theirs] });
  const c1 = new SeriesCounter({ name: 'c_total', help: 'c', labelNames: ['route', 'status'], registers: [ours] });
  const c2 = new Counter({ name: 'c_total', help: 'c', labelNames: ['route', 'status'], registers: [theirs] });
  const n1 = new SeriesCounter({ name: 'n_total', help: 'n', registers: [ours] });
  const n2 = new Counter({ name: 'n_total', help: 'n', registers: [theirs] });

  const zeroed = { model_name: 'never', instance: 'i9' };
  h1.zero(zeroed);
  h2.zero(zeroed);
  const r = rng(3);
  const handles = new Map<string, [ReturnType<SeriesHistogram['labels']>, ReturnType<Histogram['labels']>]>();
  for (let k = 0; k < 2000; k++) {
    const labels = { model_name: `m${Math.floor(r() * 3)}`, instance: `i${Math.floor(r() * 2)}` };
    const v = r() < 0.1 ? 50 : r() < 0.05 ? buckets[Math.floor(r() * buckets.length)]! : r() * r() * 3;
    if (r() < 0.5) {
      const key = `${labels.model_name}/${labels.instance}`;
      if (!handles.has(key)) handles.set(key, [h1.labels(labels), h2.labels(labels)]);
      const [a, b] = handles.get(key)!;
      a.observe(v);
      b.observe(v);
    } else {
      h1.observe(labels, v);
      h2.observe(labels, v);
    }
    q1.observe({}, v);
    q2.observe(v);
    const c = { route: r() < 0.5 ? '/v1/chat/completions' : '/v1/models', status: r() < 0.9 ? '200' : '429' };
    const n = Math.floor(r() * 3);
    c1.inc(c, n);
    c2.inc(c, n);
    if (r() < 0.3) {
      n1.inc();
      n2.inc();
    }
  }
  expect(await ours.metrics()).toBe(await theirs.metrics());
  expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
});

it('shows unlabelled series at zero before any update, as prom-client does', async () => {
  const ours = new Registry();
  const theirs = new Registry();
  new SeriesHistogram({ name: 'q_seconds', help: 'q', buckets: [1, 2], registers: [ours] });
  new Histogram({ name: 'q_seconds', help: 'q', buckets: [1, 2], registers: [theirs] });
  new SeriesCounter({ name: 'n_total', help: 'n', registers: [ours] });
  new Counter({ name: 'n_total', help: 'n', registers: [theirs] });
  expect(await ours.metrics()).toBe(await theirs.metrics());
  expect(() => new SeriesHistogram({ name: 'bad', help: 'b', buckets: [1], registers: [] }).observe({}, NaN)).toThrow(TypeError);
  expect(() => new SeriesCounter({ name: 'bad_total', help: 'b', registers: [] }).inc({}, -1)).toThrow();
});
