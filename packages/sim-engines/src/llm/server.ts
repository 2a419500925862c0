// sim-llm: an OpenAI-compatible server in front of the simulated continuously batching engine.
// Routes: POST /v1/chat/completions, POST /v1/completions (both with SSE streaming), GET /v1/models,
// GET /health, GET /metrics (vLLM metric names).
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { EngineLoop } from '../model/engine-loop';
import { resolveEngineModelParams, type EngineModelParams } from '../model/params';
import { createBaseApp } from '../http/app';
import { modelListing } from '../http/model-listing';
import { createSimLlmMetrics, type SimLlmMetrics } from './metrics';
import { SimLlmRunner } from './runner';
import { registerChatRoute } from './chat-route';
import { registerCompletionsRoute } from './completions-route';
import type { SimLlmRole } from './request-checks';

export { SIM_LLM_ROLES, type SimLlmRole } from './request-checks';

export interface SimLlmServerOptions {
  model: string;
  role?: SimLlmRole;
  engine?: Partial<EngineModelParams>;
  logger?: Logger;
  /** Largest accepted request body (default 32 MiB). */
  bodyLimitBytes?: number;
  /** Identity reported to decode engines in kv_transfer_params (default: random). */
  engineId?: string;
  /** Host and port advertised in kv_transfer_params (set once listening). */
  advertise?: () => { host: string; port: number };
}

export interface SimLlmApp {
  app: FastifyInstance;
  engine: EngineLoop;
  metrics: SimLlmMetrics;
  params: EngineModelParams;
}

export function buildSimLlmApp(opts: SimLlmServerOptions): SimLlmApp {
  const role = opts.role ?? 'general';
  const params = resolveEngineModelParams(opts.engine);
  const engine = new EngineLoop(params);
  const metrics = createSimLlmMetrics(opts.model, () => engine.stats(), { kvCacheBlocks: params.kvCacheBlocks, blockSize: params.blockSize });
  const runner = new SimLlmRunner({ model: opts.model, engine, metrics, params, engineId: opts.engineId, advertise: opts.advertise });
  const app = createBaseApp({ logger: opts.logger, bodyLimitBytes: opts.bodyLimitBytes });
  const created = Math.floor(Date.now() / 1000);

  const ctx = { app, model: opts.model, role, params, runner };
  registerChatRoute(ctx);
  registerCompletionsRoute(ctx);

  app.get('/v1/models', async () =>
    modelListing(opts.model, created, {
      root: opts.model,
      parent: null,
      max_model_len: params.maxModelLen,
      sage_kind: 'llm',
      simulated: true,
      engine: 'sim-llm',
      role,
      description: 'sage built-in simulator: deterministic answers, latency from a continuous-batching GPU model (no model weights)',
    }),
  );

  app.get('/health', async () => ({ status: 'ok', model: opts.model, engine: 'sim-llm', simulated: true, role, ...engine.stats() }));

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  app.addHook('onClose', async () => engine.stop());
  return { app, engine, metrics, params };
}

