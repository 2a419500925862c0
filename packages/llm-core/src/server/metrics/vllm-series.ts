// Request-level series under vLLM's names, so dashboards built for vLLM read the control plane unchanged:
// same names, same bucket boundaries, a `model_name` label (plus `instance`: which engine served it). Measured
// at the control plane: latency includes its queue and the network to the engine. Updated from each request's
// end record (one cached child per model and instance, no label hashing per request) and, for inter-token
// latency, once per streamed chunk; the running/waiting gauges are read at scrape time.
import { Gauge, type Registry } from 'prom-client';
import type { RequestRecord } from '../../control-plane/metrics';
import type { LabelBounds } from './label-bounds';
import { SeriesCounter, SeriesHistogram } from './series-metrics';

/** vLLM's boundaries (vllm/v1/metrics/loggers.py). */
export const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0];
export const TOKEN_LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];
export const REQUEST_LATENCY_BUCKETS = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0];

/** vLLM's 1-2-5 series up to a maximum (there: the model's context length; here one bound for every model). */
export function oneTwoFiveBuckets(max: number): number[] {
  const out: number[] = [];
  for (let e = 1; ; e *= 10) {
    for (const m of [1, 2, 5]) {
      if (m * e > max) return out;
      out.push(m * e);
    }
  }
}
export const TOKEN_COUNT_BUCKETS = oneTwoFiveBuckets(1_000_000);

/** vLLM's finished_reason values; an engine's other reasons (tool_calls, content_filter, …) count as stop. */
export const FINISHED_REASONS = ['stop', 'length', 'abort'] as const;
type FinishedReason = (typeof FINISHED_REASONS)[number];

type Labels = 'model_name' | 'instance';

type HistogramChild = ReturnType<SeriesHistogram['labels']>;
type CounterChild = ReturnType<SeriesCounter['labels']>;

interface Children {
  e2e: HistogramChild;
  ttft: HistogramChild;
  tpot: HistogramChild;
  itl: HistogramChild;
  promptTokens: HistogramChild;
  generationTokens: HistogramChild;
  promptTotal: CounterChild;
  generationTotal: CounterChild;
  success: Record<FinishedReason, CounterChild>;
}

/** Times the gaps between streamed chunks: call tick() as each chunk with tokens goes out. */
export interface TokenClock {
  tick(): void;
}

export interface SchedulerView {
  /** Every instance: its id and requests in flight on it (dispatched by the control plane, or queued inside the engine). */
  instances(): ReadonlyArray<{ id: string; running: number; waitingInEngine: number }>;
  /** The model of each request waiting in the control plane's own queue. */
  queuedModels(): readonly string[];
}

/** `instance` of requests still in the control plane's queue (no engine chosen yet). */
export const QUEUE_INSTANCE = 'control-plane';

export class VllmSeries {
  private readonly e2e: SeriesHistogram;
  private readonly ttft: SeriesHistogram;
  private readonly tpot: SeriesHistogram;
  private readonly itl: SeriesHistogram;
  private readonly promptTokens: SeriesHistogram;
  private readonly generationTokens: SeriesHistogram;
  private readonly promptTotal: SeriesCounter;
  private readonly generationTotal: SeriesCounter;
  private readonly success: SeriesCounter;
  /** Children by model, then instance: found without making a key per request. */
  private readonly cache = new Map<string, Map<string, Children>>();

  private readonly bounds: LabelBounds;
  /** The children the last record went to, for the model and instance it named (requests come in runs of them). */
  private last: { model: string | undefined; instanceId: string | undefined; version: number; children: Children | undefined } = { model: undefined, instanceId: undefined, version: -1, children: undefined };

  constructor(registry: Registry, bounds: LabelBounds, scheduler: SchedulerView) {
    this.bounds = bounds;
    const registers = [registry];
    const labelNames: Labels[] = ['model_name', 'instance'];
    // Updated on every request: series kept by handle (series-metrics.ts), read at scrape time.
    const hist = (name: string, help: string, buckets: number[]) => new SeriesHistogram({ name, help, labelNames, buckets, registers });
    this.e2e = hist('vllm:e2e_request_latency_seconds', 'Histogram of e2e request latency in seconds (at the control plane: arrival to last byte).', REQUEST_LATENCY_BUCKETS);
    this.ttft = hist('vllm:time_to_first_token_seconds', 'Histogram of time to first token in seconds (streamed requests, from arrival at the control plane).', TTFT_BUCKETS);
    this.tpot = hist('vllm:time_per_output_token_seconds', 'Histogram of time per output token in seconds (per streamed request: (e2e - ttft) / (tokens - 1)).', TOKEN_LATENCY_BUCKETS);
    this.itl = hist('vllm:inter_token_latency_seconds', 'Histogram of inter-token latency in seconds (each gap between two streamed chunks).', TOKEN_LATENCY_BUCKETS);
    this.promptTokens = hist('vllm:request_prompt_tokens', 'Number of prefill tokens processed (per request; the engine usage count when it gave one).', TOKEN_COUNT_BUCKETS);
    this.generationTokens = hist('vllm:request_generation_tokens', 'Number of generation tokens processed (per request).', TOKEN_COUNT_BUCKETS);
    this.promptTotal = new SeriesCounter({ name: 'vllm:prompt_tokens_total', help: 'Number of prefill tokens processed.', labelNames, registers });
    this.generationTotal = new SeriesCounter({ name: 'vllm:generation_tokens_total', help: 'Number of generation tokens processed.', labelNames, registers });
    this.success = new SeriesCounter({ name: 'vllm:request_success_total', help: 'Count of successfully processed requests (abort: the caller went away).', labelNames: [...labelNames, 'finished_reason'], registers });

    // Each served model's counters exist from its registration on, at zero, as vLLM's do from its start.
    bounds.eachPair((model, instance) => this.children(model, instance));
    const labelsOf = (id: string) => ({ model_name: bounds.primaryModel(id), instance: bounds.instance(id) });
    // Read at scrape time: per engine, and the control plane's own queue per model.
    new Gauge({
      name: 'vllm:num_requests_running',
      help: 'Number of requests in flight on each engine (dispatched by the control plane and not finished).',
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const i of scheduler.instances()) this.inc(labelsOf(i.id), i.running);
      },
    });
    new Gauge({
      name: 'vllm:num_requests_waiting',
      help: `Number of requests waiting: inside each engine (as it reports), and in the control plane's queue (instance="${QUEUE_INSTANCE}").`,
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const i of scheduler.instances()) this.inc(labelsOf(i.id), i.waitingInEngine);
        const queued = new Map<string, number>();
        for (const m of scheduler.queuedModels()) {
          const name = bounds.modelOf(m, undefined);
          queued.set(name, (queued.get(name) ?? 0) + 1);
        }
        for (const [model_name, n] of queued) this.set({ model_name, instance: QUEUE_INSTANCE }, n);
      },
    });
  }

  /** One request reached its end. */
  observe(r: RequestRecord): void {
    if (r.outcome !== 'completed' && r.outcome !== 'cancelled') return;
    const c = this.childrenOf(r.model, r.instanceId);
    if (r.ttftMs !== undefined) c.ttft.observe(r.ttftMs / 1000);
    if (r.outcome === 'cancelled') {
      // Only a request that reached an engine counts as aborted there.
      if (r.instanceId !== undefined) c.success.abort.inc();
      return;
    }
    (r.finishReason === 'length' ? c.success.length : c.success.stop).inc();
    if (r.e2eMs !== undefined) c.e2e.observe(r.e2eMs / 1000);
    if (r.tpotMs !== undefined) c.tpot.observe(r.tpotMs / 1000);
    const prompt = r.promptTokens ?? 0;
    const generated = r.completionTokens ?? 0;
    c.promptTokens.observe(prompt);
    c.generationTokens.observe(generated);
    if (prompt > 0) c.promptTotal.inc(prompt);
    if (generated > 0) c.generationTotal.inc(generated);
  }

  /** A clock for one stream; each tick() after the first records the gap since the previous one. */
  tokenClock(model: string | undefined, instanceId: string): TokenClock {
    const itl = this.children(this.bounds.modelOf(model, instanceId), this.bounds.instance(instanceId)).itl;
    let last = -1;
    return {
      tick() {
        const now = performance.now();
        if (last >= 0) itl.observe((now - last) / 1000);
        last = now;
      },
    };
  }

  /** The children of a request's model and instance, as children(bounds.modelOf(…), bounds.instance(…)) gives them. */
  private childrenOf(model: string | undefined, instanceId: string | undefined): Children {
    const last = this.last;
    if (last.children && last.model === model && last.instanceId === instanceId && last.version === this.bounds.version) return last.children;
    const c = this.children(this.bounds.modelOf(model, instanceId), this.bounds.instance(instanceId));
    last.model = model;
    last.instanceId = instanceId;
    last.version = this.bounds.version;
    last.children = c;
    return c;
  }

  private children(model_name: string, instance: string): Children {
    let byInstance = this.cache.get(model_name);
    if (!byInstance) this.cache.set(model_name, (byInstance = new Map()));
    let c = byInstance.get(instance);
    if (!c) {
      const labels = { model_name, instance };
      c = {
        e2e: this.e2e.labels(labels),
        ttft: this.ttft.labels(labels),
        tpot: this.tpot.labels(labels),
        itl: this.itl.labels(labels),
        promptTokens: this.promptTokens.labels(labels),
        generationTokens: this.generationTokens.labels(labels),
        promptTotal: this.promptTotal.labels(labels),
        generationTotal: this.generationTotal.labels(labels),
        success: {
          stop: this.success.labels({ ...labels, finished_reason: 'stop' }),
          length: this.success.labels({ ...labels, finished_reason: 'length' }),
          abort: this.success.labels({ ...labels, finished_reason: 'abort' }),
        },
      };
      // Series appear at zero (rate() over a new series then starts from 0, not from its first value).
      for (const h of [this.e2e, this.ttft, this.tpot, this.itl, this.promptTokens, this.generationTokens]) h.zero(labels);
      for (const r of FINISHED_REASONS) c.success[r].inc(0);
      c.promptTotal.inc(0);
      c.generationTotal.inc(0);
      byInstance.set(instance, c);
    }
    return c;
  }
}
