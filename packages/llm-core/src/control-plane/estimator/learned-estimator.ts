// The latency model the control plane uses by default: the same shape as the fixed-rate estimator
// (queue wait + prefill + decode), with every rate learnt per instance and model (calibration.ts) and the
// output length taken from what the model really produced (a quantile of its output lengths bounded by
// max_tokens, output-lengths.ts), instead of assuming max_tokens. It starts from the fixed defaults and moves
// to observation as requests finish, so it follows an engine that is faster or slower than assumed without
// any setting. It also keeps score of itself (accuracy.ts): the confidence band of the deadline judge and
// the error figures in /v1/metrics come from there.
import { RequestType, type ExecutionInstance, type LatencyEstimator, type RequestMetadata } from '../types';
import { EstimatorAccuracy, type AccuracySummary } from './accuracy';
import { IdList } from '../id-list';
import { Calibration, type EngineTimings, type Line } from './calibration';
import { fluidWaitMs, latencyParams, textLength, type DetailedLatencyEstimator, type LatencyBreakdown, type LatencyEstimatorParams } from './latency-estimator';
import { OutputLengths } from './output-lengths';

export interface LearnedEstimatorOptions extends Partial<LatencyEstimatorParams> {
  /** Quantile of a model's output lengths taken as a request's output (bounded by its max_tokens; default 0.5). */
  outputQuantile?: number;
}

/** How a dispatched request ended, for calibration. */
export interface ServiceOutcome {
  completed: boolean;
  completionTokens?: number;
  /** Default: the request's finished timestamp, else now. */
  finishedAt?: number;
}

/** A latency estimator that learns from the requests it sees and reports how accurate it was. */
export interface LearningLatencyEstimator extends DetailedLatencyEstimator {
  /** A request was dispatched to `instance` now: its prediction is kept to score it later. */
  started(request: RequestMetadata, instance: ExecutionInstance, now?: number): void;
  /** A dispatched request ended; a completed one calibrates the model of its instance. */
  finished(request: RequestMetadata, outcome: ServiceOutcome): void;
  /** The engine's own cumulative counters (from its /metrics). */
  observeEngine(instanceId: string, model: string, timings: EngineTimings): void;
  /** actual/predicted at the given confidence on this instance: {low ≤ 1 ≤ high}. */
  errorBand(instanceId: string, confidence: number): { low: number; high: number };
  /** Per instance: median absolute percentage error of e2e and TTFT predictions. */
  accuracy(): Record<string, AccuracySummary>;
  /** What the model believes now about an instance and model (for status and tests). */
  rates(instanceId: string, model: string): LearntRates;
  forget(instanceId: string): void;
}

export interface LearntRates {
  /** Prompt tokens per second in prefill. */
  prefillTokensPerSec: number;
  /** Fixed part of the time to first token, ms. */
  prefillBaseMs: number;
  /** Time per output token with `running` sequences on the engine: tpotBaseMs + tpotPerSeqMs × running. */
  tpotBaseMs: number;
  tpotPerSeqMs: number;
  /** Samples behind the instance's own fit (0: defaults or what other instances of the model taught). */
  samples: number;
}

export function isLearningEstimator(e: LatencyEstimator): e is LearningLatencyEstimator {
  const l = e as Partial<LearningLatencyEstimator>;
  return typeof l.started === 'function' && typeof l.finished === 'function' && typeof l.errorBand === 'function';
}

/** Before enough requests were scored: refuse only what misses even at twice the estimated speed. */
const DEFAULT_BAND = Object.freeze({ low: 0.5, high: 2 });
/** In-flight predictions kept at most (requests whose end was never reported are dropped oldest first). */
const MAX_IN_FLIGHT = 50_000;

/** A dispatched request's prediction; its own e2eMs and ttftMs are what was predicted (scored as they are). */
interface InFlight {
  instanceId: string;
  model: string;
  startedAt: number;
  area: number;
  /** Predicted service time (prefill and decode), ms. */
  e2eMs: number;
  /** Predicted prefill, ms. */
  ttftMs: number;
  /** The prompt's tokens estimated from its characters, when its count was unknown at dispatch (else -1). */
  charTokens: number;
}

export function createLearnedLatencyEstimator(options: LearnedEstimatorOptions = {}): LearningLatencyEstimator {
  const { outputQuantile = 0.5, ...rest } = options;
  if (!(outputQuantile > 0 && outputQuantile <= 1)) throw new RangeError(`outputQuantile must be in (0, 1], got ${outputQuantile}`);
  const p = latencyParams(rest);
  const calibration = new Calibration();
  const accuracy = new EstimatorAccuracy();
  const outputs = new Map<string, OutputLengths>();
  // Not a Map: one entry added and removed per request (see id-list.ts).
  const inFlight = new IdList<InFlight>();

  const promptTokens = (r: RequestMetadata) => r.promptTokens ?? Math.ceil(textLength(r) / p.charsPerToken);
  const modelOf = (r: RequestMetadata, i: ExecutionInstance) => r.model || i.models.find((m) => m !== '*') || '';
  const outputsOf = (model: string) => {
    let o = outputs.get(model);
    if (!o) outputs.set(model, (o = new OutputLengths()));
    return o;
  };

  // The lines of one estimate, reused by every call: a scheduling decision estimates each instance for each
  // request, and each use below reads them before the next call (JavaScript runs one at a time).
  const scratch: { prefill: Line; decode: Line; samples: number } = { prefill: { a: 0, b: 0 }, decode: { a: 0, b: 0 }, samples: 0 };

  /** The prefill line for (instance, model), written into `out`. */
  function prefillLineInto(instanceId: string, model: string, embedding: boolean, out: Line): Line {
    const own = calibration.find(instanceId, model);
    const pooled = calibration.find('', model);
    out.a = p.overheadMs;
    out.b = 1000 / (embedding ? p.embeddingTokensPerSec : p.prefillTokensPerSec);
    // What other instances of the model taught is the prior of an instance that has not been measured yet.
    pooled?.prefillLineInto(out, out);
    own?.prefillLineInto(out, out);
    return out;
  }

  /** The prefill and decode lines for (instance, model), valid until the next call. */
  function lines(instance: Pick<ExecutionInstance, 'id' | 'maxConcurrency'>, model: string, embedding: boolean): { readonly prefill: Line; readonly decode: Line; readonly samples: number } {
    const own = calibration.find(instance.id, model);
    const pooled = calibration.find('', model);
    const { prefill, decode } = scratch;
    prefill.a = p.overheadMs;
    prefill.b = 1000 / (embedding ? p.embeddingTokensPerSec : p.prefillTokensPerSec);
    const base = 1000 / p.decodeTokensPerSec;
    decode.a = base;
    decode.b = (base * p.contention) / Math.max(1, instance.maxConcurrency);
    // What other instances of the model taught is the prior of an instance that has not been measured yet.
    if (pooled) {
      pooled.prefillLineInto(prefill, prefill);
      pooled.decodeLineInto(decode, decode);
    }
    if (own) {
      own.prefillLineInto(prefill, prefill);
      own.decodeLineInto(decode, decode);
    }
    scratch.samples = own?.samples ?? 0;
    return scratch;
  }

  /** The breakdown written into `out` (estimate() and started() read one that is reused rather than made per call). */
  function breakdownInto(request: RequestMetadata, instance: ExecutionInstance, out: LatencyBreakdown): LatencyBreakdown {
    return breakdownWith(request, instance, promptTokens(request), out);
  }

  /** breakdownInto() with the request's prompt tokens already counted. */
  function breakdownWith(request: RequestMetadata, instance: ExecutionInstance, tokens: number, out: LatencyBreakdown): LatencyBreakdown {
    const embedding = request.type === RequestType.EMBEDDING;
    const model = modelOf(request, instance);
    const l = lines(instance, model, embedding);
    const slots = Math.max(1, Math.floor(instance.maxConcurrency));
    const active = Math.max(0, instance.load.activeRequests, calibration.running(instance.id));
    const occupied = active + Math.max(0, instance.load.queuedRequests);
    const prefillMs = l.prefill.a + l.prefill.b * tokens;
    let decodeMs = 0;
    if (!embedding) {
      const limit = request.maxTokens ?? p.defaultMaxTokens;
      const tokensOut = outputsOf(model).quantile(outputQuantile, limit) ?? limit;
      // It decodes alongside whatever runs when it gets its slot: at most the slots, at least itself.
      const running = Math.min(slots, occupied + 1);
      decodeMs = Math.max(0, tokensOut - 1) * (l.decode.a + l.decode.b * running);
    }
    // What one request ahead holds a slot for: the recent average, but never less than a request like this one
    // at the batch it will run in — a queue forms at full batch, where decode is slowest, and an average taken
    // at light load would promise it drains faster than it can.
    const own = prefillMs + decodeMs;
    const serviceMs = instance.load.ewmaLatencyMs > 0 ? (occupied >= slots ? Math.max(instance.load.ewmaLatencyMs, own) : instance.load.ewmaLatencyMs) : own;
    const queueMs = fluidWaitMs(occupied, slots, serviceMs);
    const ttftMs = queueMs + prefillMs;
    out.queueMs = queueMs;
    out.serviceMs = serviceMs;
    out.prefillMs = prefillMs;
    out.decodeMs = decodeMs;
    out.ttftMs = ttftMs;
    out.totalMs = ttftMs + decodeMs;
    return out;
  }

  /** A breakdown of the caller's own (it may keep it). */
  function breakdown(request: RequestMetadata, instance: ExecutionInstance): LatencyBreakdown {
    return breakdownInto(request, instance, { queueMs: 0, serviceMs: 0, prefillMs: 0, decodeMs: 0, ttftMs: 0, totalMs: 0 });
  }

  // What a finished request really took, handed to the score and read there at once.
  const actual: { e2eMs: number; ttftMs?: number } = { e2eMs: 0, ttftMs: undefined };

  // One breakdown for the estimates read at once and dropped (a placement's estimate, a dispatch's prediction).
  const scratchBreakdown: LatencyBreakdown = { queueMs: 0, serviceMs: 0, prefillMs: 0, decodeMs: 0, ttftMs: 0, totalMs: 0 };

  function started(request: RequestMetadata, instance: ExecutionInstance, now = Date.now()): void {
    const previous = inFlight.take(request.id);
    if (previous) calibration.clock(previous.instanceId).change(now, -1); // a retry: the earlier attempt is over
    const tokens = promptTokens(request);
    const b = breakdownWith(request, instance, tokens, scratchBreakdown);
    const clock = calibration.clock(instance.id);
    clock.change(now, +1);
    // The estimate from characters is kept for the end (counting the characters again there); a count that
    // arrives on the metadata meanwhile is read then instead.
    const charTokens = request.promptTokens === undefined ? tokens : -1;
    inFlight.set(request.id, { instanceId: instance.id, model: modelOf(request, instance), startedAt: now, area: clock.mark(now), e2eMs: b.prefillMs + b.decodeMs, ttftMs: b.prefillMs, charTokens });
    inFlight.keepNewest(MAX_IN_FLIGHT);
  }

  function finished(request: RequestMetadata, outcome: ServiceOutcome): void {
    const f = inFlight.take(request.id);
    if (!f) return;
    const end = outcome.finishedAt ?? request.timestamps.finished ?? Date.now();
    const clock = calibration.clock(f.instanceId);
    const area = clock.mark(end) - f.area;
    clock.change(end, -1);
    if (!outcome.completed) return;
    const serviceMs = end - f.startedAt;
    if (!(serviceMs > 0)) return;
    const running = Math.max(1, area / serviceMs);
    const tokens = request.promptTokens ?? (f.charTokens >= 0 ? f.charTokens : promptTokens(request));
    const own = calibration.speed(f.instanceId, f.model);
    const pooled = calibration.speed('', f.model);
    const first = request.timestamps.firstToken;
    const ttftMs = first !== undefined && first >= f.startedAt && first <= end ? first - f.startedAt : undefined;
    actual.e2eMs = serviceMs;
    actual.ttftMs = ttftMs;
    accuracy.record(f.instanceId, f, actual);
    if (request.type === RequestType.EMBEDDING) {
      own.prefill.add(tokens, serviceMs);
      pooled.prefill.add(tokens, serviceMs);
      return;
    }
    const out = outcome.completionTokens ?? 0;
    outputsOf(f.model).add(out, request.maxTokens);
    let firstMs = ttftMs;
    if (firstMs !== undefined) {
      own.prefill.add(tokens, firstMs);
      pooled.prefill.add(tokens, firstMs);
    } else {
      // Not streamed: the first token's time is what the prefill model says; the rest was decode.
      const l = prefillLineInto(f.instanceId, f.model, false, scratch.prefill);
      firstMs = Math.min(serviceMs, l.a + l.b * tokens);
    }
    if (out > 1) {
      const tpot = (serviceMs - firstMs) / (out - 1);
      if (tpot > 0) {
        own.decode.add(running, tpot);
        pooled.decode.add(running, tpot);
      }
    }
  }

  function rates(instanceId: string, model: string): LearntRates {
    const l = lines({ id: instanceId, maxConcurrency: 1 }, model, false);
    return {
      prefillTokensPerSec: l.prefill.b > 0 ? 1000 / l.prefill.b : Infinity,
      prefillBaseMs: l.prefill.a,
      tpotBaseMs: l.decode.a,
      tpotPerSeqMs: l.decode.b,
      samples: l.samples,
    };
  }

  return {
    estimate: (request, instance) => breakdownInto(request, instance, scratchBreakdown).totalMs,
    breakdown,
    breakdownInto,
    started,
    finished,
    observeEngine: (instanceId, model, timings) => calibration.observeEngine(instanceId, model, timings),
    errorBand: (instanceId, confidence) => accuracy.band(instanceId, confidence, DEFAULT_BAND),
    accuracy: () => accuracy.summary(),
    rates,
    forget(instanceId) {
      calibration.forget(instanceId);
      accuracy.forget(instanceId);
    },
  };
}
