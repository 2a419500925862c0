// Latency estimate of a request on an instance, from the instance's live load and the request's size:
//   queue wait + prefill + decode.
// It is deliberately simple (a fluid model of maxConcurrency parallel slots) and errs on the slow side: it is
// used to decide feasibility (reject or demote what cannot meet its deadline) and to compare instances,
// where a consistent estimate matters more than an exact one. Observed EWMAs override the default rates when
// they are slower, so a congested or slow engine is not mistaken for a fast one.
import { RequestType, type ExecutionInstance, type LatencyEstimator, type RequestMetadata } from '../types';

export interface LatencyEstimatorParams {
  /** Prompt tokens processed per second during prefill (default 2,000). */
  prefillTokensPerSec: number;
  /** Output tokens per second per request during decode (default 40). */
  decodeTokensPerSec: number;
  /** Output tokens assumed when a request sets no max_tokens (default 256). */
  defaultMaxTokens: number;
  /** Prompt tokens assumed when the request was not counted (default: ~4 characters per token of its text). */
  charsPerToken: number;
  /** Fixed per-request overhead: HTTP, scheduling, tokenisation (default 5 ms). */
  overheadMs: number;
  /** Embedding: tokens embedded per second (default 20,000). */
  embeddingTokensPerSec: number;
  /**
   * Decode slows as the batch fills (continuous batching shares the GPU): decode time is multiplied by
   * 1 + contention × active/maxConcurrency (default 0.5).
   */
  contention: number;
}

export const DEFAULT_LATENCY_PARAMS: Readonly<LatencyEstimatorParams> = Object.freeze({
  prefillTokensPerSec: 2_000,
  decodeTokensPerSec: 40,
  defaultMaxTokens: 256,
  charsPerToken: 4,
  overheadMs: 5,
  embeddingTokensPerSec: 20_000,
  contention: 0.5,
});

export interface LatencyBreakdown {
  queueMs: number;
  /** How long one request ahead holds a slot here: what the queue term drains by (observed EWMA, else this request's own). */
  serviceMs: number;
  prefillMs: number;
  decodeMs: number;
  /** queue + prefill: when the first token is expected. */
  ttftMs: number;
  totalMs: number;
}

/** A LatencyEstimator that can also explain its estimate (policies use the TTFT part when present). */
export interface DetailedLatencyEstimator extends LatencyEstimator {
  breakdown(request: RequestMetadata, instance: ExecutionInstance): LatencyBreakdown;
  /** breakdown() written into `out` and returned (for a caller that reads it at once: nothing is allocated). */
  breakdownInto?(request: RequestMetadata, instance: ExecutionInstance, out: LatencyBreakdown): LatencyBreakdown;
}

export function hasBreakdown(estimator: LatencyEstimator): estimator is DetailedLatencyEstimator {
  return typeof (estimator as Partial<DetailedLatencyEstimator>).breakdown === 'function';
}

/**
 * The fluid queue model shared by the estimator and the control plane's backlog term: an instance with `slots`
 * parallel slots and `occupied` requests on it or waiting for it finishes `slots` requests per `serviceMs`, so
 * the next request waits for (occupied − slots + 1) of them to finish, or not at all while a slot is free.
 */
export function fluidWaitMs(occupied: number, slots: number, serviceMs: number): number {
  const n = Math.max(1, Math.floor(slots));
  return occupied >= n ? ((occupied - n + 1) / n) * serviceMs : 0;
}

export function textLength(request: RequestMetadata): number {
  if (request.embeddingTexts) return request.embeddingTexts.reduce((s, t) => s + t.length, 0);
  if (request.prompt !== undefined) return request.prompt.length;
  let n = 0;
  for (const m of request.messages ?? []) n += typeof m.content === 'string' ? m.content.length : JSON.stringify(m.content ?? '').length;
  return n;
}

/** The defaults with `params` over them, each checked. */
export function latencyParams(params: Partial<LatencyEstimatorParams> = {}): LatencyEstimatorParams {
  const p: LatencyEstimatorParams = { ...DEFAULT_LATENCY_PARAMS, ...params };
  for (const [k, v] of Object.entries(p)) {
    if (!Number.isFinite(v) || v < 0 || (k.endsWith('PerSec') && v === 0) || (k === 'charsPerToken' && v === 0)) {
      throw new RangeError(`latency estimator parameter ${k} must be a positive number, got ${String(v)}`);
    }
  }
  return p;
}

/**
 * The fixed-rate estimator: the same rates for every engine, whatever it really does (see learned-estimator.ts
 * for the one that calibrates itself). Kept for callers that want a deterministic model.
 */
export function createLatencyEstimator(params: Partial<LatencyEstimatorParams> = {}): DetailedLatencyEstimator {
  const p = latencyParams(params);

  const promptTokens = (r: RequestMetadata) => r.promptTokens ?? Math.ceil(textLength(r) / p.charsPerToken);

  /** Time the request itself takes once it has a slot. */
  function service(request: RequestMetadata, instance: ExecutionInstance): { prefillMs: number; decodeMs: number } {
    const tokens = promptTokens(request);
    if (request.type === RequestType.EMBEDDING) {
      return { prefillMs: (tokens / p.embeddingTokensPerSec) * 1000, decodeMs: 0 };
    }
    const prefillMs = (tokens / p.prefillTokensPerSec) * 1000;
    const slots = Math.max(1, instance.maxConcurrency);
    const fill = Math.min(1, Math.max(0, instance.load.activeRequests) / slots);
    const decodeMs = ((request.maxTokens ?? p.defaultMaxTokens) / p.decodeTokensPerSec) * 1000 * (1 + p.contention * fill);
    return { prefillMs, decodeMs };
  }

  function breakdown(request: RequestMetadata, instance: ExecutionInstance): LatencyBreakdown {
    const own = service(request, instance);
    // Observed TTFT is a floor on prefill: it already includes what this engine really costs.
    const prefillMs = Math.max(own.prefillMs, instance.load.ewmaTtftMs > 0 ? instance.load.ewmaTtftMs : 0) + p.overheadMs;
    const decodeMs = own.decodeMs;
    const ahead = Math.max(0, instance.load.activeRequests) + Math.max(0, instance.load.queuedRequests);
    const serviceMs = instance.load.ewmaLatencyMs > 0 ? instance.load.ewmaLatencyMs : prefillMs + decodeMs;
    const queueMs = fluidWaitMs(ahead, instance.maxConcurrency, serviceMs);
    const ttftMs = queueMs + prefillMs;
    return { queueMs, serviceMs, prefillMs, decodeMs, ttftMs, totalMs: ttftMs + decodeMs };
  }

  return {
    estimate: (request, instance) => breakdown(request, instance).totalMs,
    breakdown,
  };
}
