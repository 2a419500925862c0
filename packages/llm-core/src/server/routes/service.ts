// Service endpoints (F-302): what this server is, whether it is healthy (open to probes), and its metrics.
import type { FastifyInstance } from 'fastify';
import { SAGE_CONTROL_PLANE_SERVICE } from '@sage/common';
import type { ControlPlaneManager } from '../../control-plane/manager';
import type { StateStoreStatus } from '../../control-plane/state';
import type { ControlPlaneMetrics } from '../prometheus';
import type { ServerReadiness } from '../readiness';
import { placementOf } from '../../settings/attributes';

export interface EngineListing {
  listEngines(): Array<{ id: string; state: string; model: string; kind: string; port: number; pid?: number; restarts: number }>;
}

export interface ServiceInfo {
  version: string;
  startedAt: number;
}

export function registerServiceRoutes(
  app: FastifyInstance,
  deps: { manager: ControlPlaneManager; metrics: ControlPlaneMetrics; engines?: EngineListing; readiness?: ServerReadiness; stateStore?: { status(): StateStoreStatus }; info: ServiceInfo },
): void {
  const { manager, metrics, engines, info } = deps;
  // Without a runtime (a bare manager) ready means: some instance is registered and healthy.
  const readiness = () => deps.readiness?.status() ?? { ready: manager.getInstances().some((i) => i.health === 'healthy'), waitingFor: [], failed: false };
  /** `local` without a shared store; else the shared store's state (ok, degraded while unreachable, connecting). */
  const storeView = () => {
    const s = deps.stateStore?.status();
    if (!s || s.kind === 'local') return { state_store: 'local' as const, replica: s ? { id: s.replicaId } : undefined };
    return { state_store: s.state, replica: { id: s.replicaId, store: s.url, since: new Date(s.since).toISOString(), error: s.error } };
  };

  app.get('/', async () => ({
    name: 'sage',
    service: SAGE_CONTROL_PLANE_SERVICE,
    version: info.version,
    endpoints: {
      openai: ['GET /v1/models', 'POST /v1/chat/completions', 'POST /v1/completions', 'POST /v1/embeddings'],
      service: ['GET /health', 'GET /health/live', 'GET /health/ready', 'GET /metrics', 'GET /v1/metrics', 'GET /dashboard'],
      management: '/v1/management',
    },
  }));

  app.get('/health', async (_request, reply) => {
    const instances = manager.getInstances();
    const healthy = instances.filter((i) => i.health === 'healthy').length;
    const status = instances.length === 0 ? 'starting' : healthy === 0 ? 'unhealthy' : healthy < instances.length ? 'degraded' : 'ok';
    const body = {
      status,
      ready: readiness().ready,
      service: SAGE_CONTROL_PLANE_SERVICE,
      version: info.version,
      uptimeSec: Math.round((Date.now() - info.startedAt) / 1000),
      policy: manager.policy.name,
      router: manager.router.name,
      pdSeparation: manager.pdSeparation.enabled,
      queueLength: manager.queueLength,
      ...storeView(),
      // Never the instance's API key: only what scheduling decides by (and why an instance gets no new work).
      instances: instances.map((i) => ({ id: i.id, type: i.type, models: i.models, health: i.health, circuit: i.circuit, ...(i.drained ? { drained: i.drained } : {}), maxConcurrency: i.maxConcurrency, ...placementOf(i), load: i.load })),
      engines: engines?.listEngines().map((e) => ({ id: e.id, state: e.state, model: e.model, kind: e.kind, port: e.port, pid: e.pid, restarts: e.restarts })) ?? [],
    };
    return reply.code(status === 'unhealthy' ? 503 : 200).send(body);
  });

  // Liveness (for a Kubernetes livenessProbe, Docker's HEALTHCHECK): 200 whenever this process answers HTTP. It looks
  // at no engine on purpose: engines being down is no reason to restart the control plane, which would lose its
  // queue and heal nothing (/health answers 503 then, which is why it is no liveness probe).
  app.get('/health/live', async () => ({
    live: true,
    service: SAGE_CONTROL_PLANE_SERVICE,
    version: info.version,
    uptimeSec: Math.round((Date.now() - info.startedAt) / 1000),
  }));

  // Readiness (for a Kubernetes readinessProbe): 200 once every engine of the preset is RUNNING and registered, and
  // a shared state store has been tried (shared, or degraded to local state: a degraded replica still serves).
  app.get('/health/ready', async (_request, reply) => {
    const r = readiness();
    const view = storeView();
    const ready = r.ready && view.state_store !== 'connecting';
    return reply.code(ready ? 200 : 503).send({ ready, waitingFor: r.waitingFor, ...(r.failed ? { failed: true } : {}), ...view });
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });

}

/** GET /v1/metrics: the scheduler's numbers as JSON (the dashboard's data), behind the API keys like the OpenAI API. */
export function registerMetricsRoute(app: FastifyInstance, manager: ControlPlaneManager): void {
  app.get('/v1/metrics', async () => ({
    ...manager.getMetrics(),
    queueLength: manager.queueLength,
    running: manager.status().running,
    instances_live: manager.getInstances().map((i) => ({ id: i.id, type: i.type, health: i.health, circuit: i.circuit, ...(i.drained ? { drained: i.drained } : {}), load: i.load })),
  }));
}
