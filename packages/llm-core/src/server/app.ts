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
import { newRequestId } from '../control-plane/manager';
import { AccessLog, type AccessLogLevel } from './access-log';
import { ControlPlaneMetrics, type EngineStateSource } from './prometheus';
import { requestIdHook } from './request-id';
import { registerModelRoutes } from './routes/models';
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
  /** Level of the one access-log line per request (default info; 'silent' for none). */
  accessLogLevel?: AccessLogLevel;
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
    // The control plane names each request itself (logs, x-sage-request-id, the scheduler's id); a caller's
    // x-request-id is carried beside it (request-id.ts).
    requestIdHeader: false,
    genReqId: () => newRequestId(),
    // One access-log line per request instead of fastify's two.
    logController: new AccessLog(options.accessLogLevel),
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

  app.addHook('onRequest', requestIdHook);
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
    const model = (request.body as { model?: unknown } | undefined)?.model;
    // Only served model names become label values (any other is "other").
    metrics.observeHttp(route, typeof model === 'string' ? model : undefined, reply.statusCode, reply.elapsedTime / 1000);
  });

  registerServiceRoutes(app, { manager: options.manager, metrics, engines: options.engines, readiness: options.readiness, stateStore: options.stateStore, info: { version: options.version ?? '0.1.0', startedAt: Date.now() } });
  registerModelRoutes(app, options.manager, options.engines);
  registerOpenAIRoutes(app, options.manager, options.readiness, metrics);
  if (options.dashboard !== false) registerDashboardRoutes(app, options.dashboard);
  for (const plugin of options.plugins ?? []) await plugin(app);
  return app;
}
