// The control-plane HTTP server (F-301 to F-307): a fastify app with the OpenAI API, the service endpoints and
// (when an engine manager is given) the management API, behind optional API-key auth.
import fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { openAIError } from '@sage/common';
import type { ControlPlaneManager } from '../control-plane/manager';
import type { StateStoreStatus } from '../control-plane/state';
import { KeyRing, presentedKey, type AuthConfig } from './auth';
import { errorHandler } from './errors';
import { registerDashboardRoutes, type DashboardOptions } from './dashboard';
import { ControlPlaneMetrics, type EngineStateSource } from './prometheus';
import { registerOpenAIRoutes } from './routes/openai';
import { registerServiceRoutes, type EngineListing } from './routes/service';
import type { ServerReadiness } from './readiness';

export interface ServerOptions {
  manager: ControlPlaneManager;
  /** Lifecycle of launched engines, for /health and /metrics (and the management API). */
  engines?: EngineListing & EngineStateSource;
  auth?: AuthConfig;
  /** Largest accepted request body in bytes (default 8 MiB). */
  bodyLimit?: number;
  logger?: Logger;
  version?: string;
  /** Extra routes under the same auth (the management API registers itself here). */
  plugins?: Array<(app: FastifyInstance) => void | Promise<void>>;
  /** Readiness of the preset's engines: /health/ready, and requests for models still starting wait. */
  readiness?: ServerReadiness;
  /** Where this replica shares state (reported by /health and /health/ready); default: local. */
  stateStore?: { status(): StateStoreStatus };
  /** The live dashboard at GET /dashboard (F-307); false leaves it out. */
  dashboard?: DashboardOptions | false;
}

const UNAUTHENTICATED = new Set(['/', '/health', '/health/ready']);

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const app = fastify({
    loggerInstance: (options.logger ?? pino({ level: 'silent' })) as FastifyBaseLogger,
    bodyLimit: options.bodyLimit ?? 8 * 1024 * 1024,
    // Request ids come from the caller when given (x-request-id), so logs can be joined across services.
    requestIdHeader: 'x-request-id',
    genReqId: () => `r-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
    return503OnClosing: true,
  });
  const metrics = new ControlPlaneMetrics(options.manager, options.engines);
  const apiKeys = new KeyRing(options.auth?.apiKeys ?? []);
  const adminKeys = options.auth?.adminKey ? new KeyRing([options.auth.adminKey]) : apiKeys;

  // JSON only: without this, fastify would hand text/plain bodies to the routes as strings.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(openAIError(404, `no route ${request.method} ${request.url.split('?')[0]}`, { code: 'route_not_found' }).body);
  });

  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0]!;
    if (UNAUTHENTICATED.has(path) || path === '/metrics' || path.startsWith('/dashboard')) return;
    const ring = path.startsWith('/v1/management') ? adminKeys : apiKeys;
    if (!ring.enabled) return;
    if (!ring.has(presentedKey(request.headers))) {
      // Never echo or log the presented key.
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send(openAIError(401, 'invalid or missing API key', { type: 'authentication_error', code: 'invalid_api_key' }).body);
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const model = typeof (request.body as { model?: unknown } | undefined)?.model === 'string' ? ((request.body as { model: string }).model.slice(0, 100)) : '';
    metrics.observeHttp(route, model, reply.statusCode, reply.elapsedTime / 1000);
  });

  registerServiceRoutes(app, { manager: options.manager, metrics, engines: options.engines, readiness: options.readiness, stateStore: options.stateStore, info: { version: options.version ?? '0.1.0', startedAt: Date.now() } });
  registerOpenAIRoutes(app, options.manager, options.readiness, options.engines);
  if (options.dashboard !== false) registerDashboardRoutes(app, options.dashboard);
  for (const plugin of options.plugins ?? []) await plugin(app);
  return app;
}
