// sim-embedding: an OpenAI-compatible embeddings server (with TEI's /info) computing real lexical
// embeddings, paced by a per-batch GPU cost model.
// Routes: POST /v1/embeddings, GET /v1/models, GET /health, GET /info, GET /metrics.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { decodeTokens, encodeTokens, EmbeddingRequestSchema, SageError, type EmbeddingResponse } from '@sage/common';
import { createBaseApp } from '../http/app';
import { modelListing } from '../http/model-listing';
import { decodeTokenIds } from '../http/token-ids';
import { BatchQueue, DEFAULT_BATCH_COST_PARAMS, type BatchCostParams } from './batch-cost';
import { DEFAULT_EMBEDDING_DIMENSIONS, embedText, embeddingToBase64 } from './lexical-embedder';
import { createSimEmbeddingMetrics } from './metrics';

export interface SimEmbeddingServerOptions {
  model: string;
  /** Native output size; `dimensions` in a request may ask for fewer. */
  dimensions?: number;
  /** Inputs per request (TEI's max_client_batch_size) and per GPU batch. */
  maxBatchSize?: number;
  /** Requests in flight before 429 (TEI's max_concurrent_requests). */
  maxConcurrentRequests?: number;
  /** Tokens per input before 413, or truncation with `truncate: true` (TEI's max_input_length). */
  maxInputTokens?: number;
  batchOverheadMs?: number;
  perTokenMs?: number;
  timeScale?: number;
  logger?: Logger;
}

export interface SimEmbeddingApp {
  app: FastifyInstance;
  queue: BatchQueue;
}

// TEI's extension: cut inputs longer than the model's window instead of rejecting them.
const SimEmbeddingRequestSchema = EmbeddingRequestSchema.extend({ truncate: z.boolean().optional() });

export function buildSimEmbeddingApp(opts: SimEmbeddingServerOptions): SimEmbeddingApp {
  const dims = opts.dimensions ?? DEFAULT_EMBEDDING_DIMENSIONS;
  const maxInputTokens = opts.maxInputTokens ?? 512;
  const maxConcurrent = opts.maxConcurrentRequests ?? 512;
  const cost: BatchCostParams = {
    batchOverheadMs: opts.batchOverheadMs ?? DEFAULT_BATCH_COST_PARAMS.batchOverheadMs,
    perTokenMs: opts.perTokenMs ?? DEFAULT_BATCH_COST_PARAMS.perTokenMs,
    maxBatchSize: opts.maxBatchSize ?? DEFAULT_BATCH_COST_PARAMS.maxBatchSize,
    timeScale: opts.timeScale ?? 1,
  };
  const queue = new BatchQueue(cost);
  const app = createBaseApp({ logger: opts.logger });
  const created = Math.floor(Date.now() / 1000);
  let inFlight = 0;

  const metrics = createSimEmbeddingMetrics(opts.model, () => ({ inFlight, queued: queue.queued(), batches: queue.batches }));
  const labels = { model_name: opts.model };

  app.post('/v1/embeddings', { schema: { body: SimEmbeddingRequestSchema } }, async (request) => {
    const body = request.body;
    if (body.model !== opts.model) {
      throw new SageError(`The model \`${body.model}\` does not exist. This engine serves \`${opts.model}\`.`, { status: 404, type: 'invalid_request_error', param: 'model', code: 'model_not_found' });
    }
    const outDims = body.dimensions ?? dims;
    if (outDims > dims) throw new SageError(`'dimensions' may be at most ${dims} for this model (got ${outDims})`, { status: 400, param: 'dimensions', code: 'invalid_value' });
    const raw = body.input;
    const inputs: Array<string | number[]> =
      typeof raw === 'string' ? [raw] : raw.every((x) => typeof x === 'number') ? [raw as number[]] : (raw as Array<string | number[]>);
    if (inputs.length > cost.maxBatchSize) {
      metrics.rejected.inc({ ...labels, reason: 'batch_size' });
      throw new SageError(`batch size ${inputs.length} > maximum allowed batch size ${cost.maxBatchSize}: send at most ${cost.maxBatchSize} inputs per request`, { status: 413, param: 'input', code: 'batch_too_large' });
    }
    const texts: string[] = [];
    let tokens = 0;
    inputs.forEach((input, i) => {
      let ids = typeof input === 'string' ? encodeTokens(input) : input;
      if (typeof input === 'string' && input.trim().length === 0) throw new SageError(`input[${i}] is empty: every input must contain text`, { status: 400, param: 'input', code: 'invalid_value' });
      if (ids.length > maxInputTokens) {
        if (!body.truncate) {
          metrics.rejected.inc({ ...labels, reason: 'input_too_long' });
          throw new SageError(`input[${i}] has ${ids.length} tokens, more than the maximum of ${maxInputTokens}; shorten it or set "truncate": true`, { status: 413, param: 'input', code: 'input_too_long' });
        }
        ids = ids.slice(0, maxInputTokens);
        texts.push(typeof input === 'string' ? decodeTokens(ids) : decodeTokenIds(ids, 'input'));
      } else {
        texts.push(typeof input === 'string' ? input : decodeTokenIds(ids, 'input'));
      }
      tokens += ids.length;
    });
    if (inFlight >= maxConcurrent) {
      metrics.rejected.inc({ ...labels, reason: 'overloaded' });
      throw new SageError(`model is overloaded: ${maxConcurrent} requests already in flight`, { status: 429, type: 'rate_limit_error', code: 'overloaded', retryAfterSeconds: 1 });
    }
    inFlight++;
    const start = performance.now();
    try {
      await queue.run(texts.length, tokens);
      const data = texts.map((t, index) => {
        const v = embedText(t, outDims);
        return { object: 'embedding' as const, index, embedding: body.encoding_format === 'base64' ? embeddingToBase64(v) : Array.from(v) };
      });
      metrics.inputs.inc(labels, texts.length);
      metrics.tokens.inc(labels, tokens);
      const response: EmbeddingResponse = { object: 'list', data, model: opts.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
      return response;
    } finally {
      inFlight--;
      metrics.latency.observe(labels, (performance.now() - start) / 1000);
    }
  });

  app.get('/v1/models', async () =>
    modelListing(opts.model, created, {
      sage_kind: 'embedding',
      simulated: true,
      engine: 'sim-embedding',
      dimensions: dims,
      max_input_length: maxInputTokens,
      description: 'sage built-in simulator: lexical feature-hashing embeddings with a GPU batch cost model (no model weights)',
    }),
  );

  app.get('/health', async () => ({ status: 'ok', model: opts.model, engine: 'sim-embedding', simulated: true, in_flight: inFlight }));

  app.get('/info', async () => ({
    model_id: opts.model,
    model_type: { embedding: { pooling: 'lexical-hashing' } },
    max_client_batch_size: cost.maxBatchSize,
    max_batch_requests: cost.maxBatchSize,
    max_input_length: maxInputTokens,
    max_concurrent_requests: maxConcurrent,
    dimensions: dims,
    simulated: true,
    version: 'sage-sim',
  }));

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  return { app, queue };
}
