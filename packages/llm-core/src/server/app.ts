// The control-plane HTTP server (F-301 to F-307): sage's shared HTTP edge (schemas at the route, OpenAI-shaped
// errors) with three groups of routes. The service endpoints and the dashboard are open (probes, a static page);
// the OpenAI API is a plugin behind the API keys; the management API is a plugin with the prefix /v1/management
// behind the admin key (when a runtime is given).
import fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import pino, { type Logger } from 'pino';
import { installHttpEdge } from '@sage/common/http';
import type { ControlPlaneManager } from '../control-plane/manager';
import type { StateStoreStatus } from '../control-plane/state';
import { KeyRing, requireKey, type AuthConfig } from './auth';
import { registerDashboardRoutes, type DashboardOptions } from './dashboard';
import { newRequestId } from '../control-plane/manager';
import { AccessLog, type AccessLogLevel } from './access-log';
import { managementRoutes, type ManagementSettings } from './routes/management';
import type { ControlPlaneRuntime } from '../runtime/control-plane-runtime';
import { ControlPlaneMetrics, type EngineStateSource } from './prometheus';
import { requestIdHook } from './request-id';
import { requestLoggerFactory } from './request-logger';
import { registerModelRoutes } from './routes/models';
import { registerOpenAIRoutes } from './routes/openai';
import { registerMetricsRoute, registerServiceRoutes, type EngineListing } from './routes/service';
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
  /** The management API (under /v1/management, behind the admin key) over this runtime. */
  management?: { runtime: ControlPlaneRuntime; settings?: ManagementSettings };
  /** Readiness of the preset's engines: /health/ready, and requests for models still starting wait. */
  readiness?: ServerReadiness;
  /** Where this replica shares state (reported by /health and /health/ready); default: local. */
  stateStore?: { status(): StateStoreStatus };
  /** The live dashboard at GET /dashboard (F-307); false leaves it out. */
  dashboard?: DashboardOptions | false;
}

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const log = options.logger ?? pino({ level: 'silent' });
  const metrics = new ControlPlaneMetrics(options.manager, options.engines);
  const app = fastify({
    loggerInstance: log as FastifyBaseLogger,
    // request.log is made on first use: most requests write no line through it (request-logger.ts).
    childLoggerFactory: requestLoggerFactory,
    bodyLimit: options.bodyLimit ?? 8 * 1024 * 1024,
    // The control plane names each request itself (logs, x-sage-request-id, the scheduler's id); a caller's
    // x-request-id is carried beside it (request-id.ts).
    requestIdHeader: false,
    genReqId: newRequestId,
    // One access-log line per request instead of fastify's two; the HTTP metrics are taken at the same point.
    logController: new AccessLog({ logger: log, level: options.accessLogLevel, onEnd: (request, reply) => observeHttp(metrics, request, reply) }),
    return503OnClosing: true,
  });
  const apiKeys = new KeyRing(options.auth?.apiKeys ?? []);
  const adminKeys = options.auth?.adminKey ? new KeyRing([options.auth.adminKey]) : apiKeys;

  installHttpEdge(app);
  app.addHook('onRequest', requestIdHook);

  registerServiceRoutes(app, { manager: options.manager, metrics, engines: options.engines, readiness: options.readiness, stateStore: options.stateStore, info: { version: options.version ?? '0.1.0', startedAt: Date.now() } });
  if (options.dashboard !== false) registerDashboardRoutes(app, options.dashboard);
  await app.register(async (api) => {
    // Without API keys every request passes: no hook to run.
    if (apiKeys.enabled) api.addHook('onRequest', requireKey(apiKeys));
    registerMetricsRoute(api, options.manager);
    registerModelRoutes(api, options.manager, options.engines);
    registerOpenAIRoutes(api, options.manager, options.readiness, metrics);
  });
  if (options.management) await app.register(managementRoutes, { prefix: '/v1/management', ...options.management, keys: adminKeys });
  return app;
}

/** The HTTP series of one finished request. */
function observeHttp(metrics: ControlPlaneMetrics, request: FastifyRequest, reply: FastifyReply): void {
  const route = request.routeOptions.url ?? 'unmatched';
  const model = (request.body as { model?: unknown } | undefined)?.model;
  // Only served model names become label values (any other is "other").
  metrics.observeHttp(route, typeof model === 'string' ? model : undefined, reply.statusCode, reply.elapsedTime / 1000);
}
