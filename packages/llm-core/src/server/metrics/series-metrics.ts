// Counters and histograms for the series updated on every request. prom-client's own validate the labels, hash them
// and look the series up on each observation (and a histogram bucket is a property named after its bound), which
// costs several microseconds per request across a dozen updates. These keep one record per series: an update is an
// array index and an addition, through a handle cached by the caller or a key made by joining the label values. The
// registry reads them at scrape time, in prom-client's own format, so /metrics is the same text.
import type { Registry } from 'prom-client';

type Labels = Record<string, string>;

/** The shape prom-client's registry reads from a metric (Registry.getMetricsAsString, getMetricsAsJSON). */
interface ExportedValue {
  labels: Labels | { le: number | string };
  sharedLabels?: Labels;
  value: number;
  metricName?: string;
  /** As prom-client reports it (null on bucket rows): never set here. */
  exemplar?: null;
}

/** One level of the lookup index per label name, the last level holding the series. */
type IndexLevel<S> = Map<string, IndexLevel<S> | S>;

const NO_LABELS: Labels = {};

abstract class SeriesMetric<S extends { labels: Labels }> {
  readonly aggregator = 'sum';
  /** The series in the order they were made, for the exposition. */
  protected series = new Map<string, S>();
  /** The same series found by their label values one level at a time, so a lookup makes no key string. */
  private index: IndexLevel<S> = new Map();

  constructor(
    readonly name: string,
    readonly help: string,
    protected readonly labelNames: readonly string[],
    registers: readonly Registry[],
  ) {
    for (const r of registers) r.registerMetric(this as never);
  }

  protected abstract fresh(labels: Labels): S;

  /** The series of `labels`, made at zero the first time. */
  protected seriesOf(labels: Labels = NO_LABELS): S {
    const names = this.labelNames;
    let level = this.index;
    // A metric without labels has one series, under the empty value.
    const last = Math.max(0, names.length - 1);
    for (let i = 0; i < last; i++) {
      const v = labelValue(labels, names[i] as string);
      let next = level.get(v) as IndexLevel<S> | undefined;
      if (!next) level.set(v, (next = new Map()));
      level = next;
    }
    const v = names.length === 0 ? '' : labelValue(labels, names[last] as string);
    let s = level.get(v) as S | undefined;
    if (!s) {
      let key = '';
      for (const n of names) key += `${labelValue(labels, n)}\u0000`;
      s = this.fresh(labels);
      level.set(v, s);
      this.series.set(key, s);
    }
    return s;
  }

  reset(): void {
    this.series = new Map();
    this.index = new Map();
  }
}

/** A label's value as a string ('' when absent), as prom-client formats one. */
function labelValue(labels: Labels, name: string): string {
  const v = labels[name] as string | number | undefined;
  return typeof v === 'string' ? v : v === undefined ? '' : String(v);
}

interface CounterSeries {
  labels: Labels;
  value: number;
}

export class SeriesCounter extends SeriesMetric<CounterSeries> {
  readonly type = 'counter';

  constructor(o: { name: string; help: string; labelNames?: readonly string[]; registers: readonly Registry[] }) {
    super(o.name, o.help, o.labelNames ?? [], o.registers);
    this.reset();
  }

  /** As prom-client's: a counter without labels shows 0 from the start. */
  override reset(): void {
    super.reset();
    if (this.labelNames.length === 0) this.seriesOf({});
  }

  protected fresh(labels: Labels): CounterSeries {
    return { labels, value: 0 };
  }

  inc(labels?: Labels, n = 1): void {
    addCount(this.seriesOf(labels), n);
  }

  /** A handle on one series, for a caller that updates it often. */
  labels(labels: Labels): { inc(n?: number): void } {
    const s = this.seriesOf(labels);
    return { inc: (n = 1) => addCount(s, n) };
  }

  get(): { name: string; help: string; type: string; values: ExportedValue[]; aggregator: string } {
    return { name: this.name, help: this.help, type: this.type, values: [...this.series.values()].map((s) => ({ value: s.value, labels: s.labels })), aggregator: this.aggregator };
  }
}

function addCount(s: CounterSeries, n: number): void {
  if (!Number.isFinite(n)) throw new TypeError(`Value is not a valid number: ${n}`);
  if (n < 0) throw new Error('It is not possible to decrease a counter');
  s.value += n;
}

interface HistogramSeries {
  labels: Labels;
  /** Observations per bucket (not cumulative); above the last bound they count only in `count`. */
  counts: Float64Array;
  sum: number;
  count: number;
  /** The bucket of the last observation (bounds.length: above the last bound), tried first for the next one. */
  last: number;
}

export class SeriesHistogram extends SeriesMetric<HistogramSeries> {
  readonly type = 'histogram';
  private readonly bounds: readonly number[];

  constructor(o: { name: string; help: string; labelNames?: readonly string[]; buckets: readonly number[]; registers: readonly Registry[] }) {
    super(o.name, o.help, o.labelNames ?? [], o.registers);
    this.bounds = [...o.buckets].sort((a, b) => a - b);
    // As prom-client's: a histogram without labels shows its empty series from the start (not after a reset).
    if (this.labelNames.length === 0) this.seriesOf({});
  }

  protected fresh(labels: Labels): HistogramSeries {
    return { labels, counts: new Float64Array(this.bounds.length), sum: 0, count: 0, last: 0 };
  }

  observe(labels: Labels, value: number): void {
    this.add(this.seriesOf(labels), value);
  }

  /** A handle on one series, for a caller that updates it often. */
  labels(labels: Labels): { observe(value: number): void } {
    const s = this.seriesOf(labels);
    return { observe: (value) => this.add(s, value) };
  }

  /** The series at zero (made if new, emptied if not), as prom-client's zero() does. */
  zero(labels: Labels): void {
    const s = this.seriesOf(labels);
    s.counts.fill(0);
    s.sum = 0;
    s.count = 0;
  }

  private add(s: HistogramSeries, value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    const b = this.bounds;
    const n = b.length;
    // A series' observations mostly fall in the bucket of the one before (the buckets are wide): two comparisons.
    let lo = s.last;
    if (!((lo === n || value <= (b[lo] as number)) && (lo === 0 || value > (b[lo - 1] as number)))) {
      lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (value <= (b[mid] as number)) hi = mid;
        else lo = mid + 1;
      }
      s.last = lo;
    }
    if (lo < n) s.counts[lo] = (s.counts[lo] as number) + 1;
    s.sum += value;
    s.count += 1;
  }

  /** For the text exposition: bucket rows carry `le` as their own label and the series' labels as shared ones. */
  getForPromString(): { name: string; help: string; type: string; values: ExportedValue[]; aggregator: string } {
    const values: ExportedValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.series.values()) {
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += s.counts[i] as number;
        values.push({ labels: { le: this.bounds[i] as number }, sharedLabels: s.labels, value: acc, metricName: bucket, exemplar: null });
      }
      values.push({ labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: bucket, exemplar: null });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** For JSON: every row's labels in one object (`le` first). */
  get(): { name: string; help: string; type: string; values: ExportedValue[]; aggregator: string } {
    const data = this.getForPromString();
    data.values = data.values.map(({ sharedLabels, labels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } }));
    return data;
  }
}
