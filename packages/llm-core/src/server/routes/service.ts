// Service endpoints (F-302): what this server is, whether it is healthy, and its metrics.
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
<<<<<<< HEAD
  deps: { manager: ControlPlaneManager; metrics: ControlPlaneMetrics; engines?: EngineListing; readiness?: ServerReadiness; info: ServiceInfo },
): void {
  const { manager, metrics, engines, info } = deps;
  // Without a runtime (a bare manager) ready means: some instance is registered and healthy.
  const readiness = () => deps.readiness?.status() ?? { ready: manager.getInstances().some((i) => i.health === 'healthy'), waitingFor: [], failed: false };
=======
  deps: { manager: ControlPlaneManager; metrics: ControlPlaneMetrics; engines?: EngineListing; stateStore?: { status(): StateStoreStatus }; info: ServiceInfo },
): void {
  const { manager, metrics, engines, info } = deps;
  /** `local` without a shared store; else the shared store's state (ok, degraded while unreachable, connecting). */
  const storeView = () => {
    const s = deps.stateStore?.status();
    if (!s || s.kind === 'local') return { state_store: 'local' as const, replica: s ? { id: s.replicaId } : undefined };
    return { state_store: s.state, replica: { id: s.replicaId, store: s.url, since: new Date(s.since).toISOString(), error: s.error } };
  };
>>>>>>> 6e47ae4 (state: a StateStore (local default, Redis shared) through which control-plane replicas share instances, slots (leases in one Lua round trip, TTL-renewed), health, circuits and affinity; /health reports state_store, /health/ready added)

  app.get('/', async () => ({
    name: 'sage',
    service: SAGE_CONTROL_PLANE_SERVICE,
    version: info.version,
    endpoints: {
      openai: ['GET /v1/models', 'POST /v1/chat/completions', 'POST /v1/completions', 'POST /v1/embeddings'],
      service: ['GET /health', 'GET /health/ready', 'GET /metrics', 'GET /v1/metrics', 'GET /dashboard'],
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
<<<<<<< HEAD
      // Never the instance's API key: only what scheduling decides by (and why an instance gets no new work).
      instances: instances.map((i) => ({ id: i.id, type: i.type, models: i.models, health: i.health, circuit: i.circuit, ...(i.drained ? { drained: i.drained } : {}), maxConcurrency: i.maxConcurrency, ...placementOf(i), load: i.load })),
=======
      ...storeView(),
      instances: instances.map((i) => ({ id: i.id, type: i.type, models: i.models, health: i.health, circuit: i.circuit, load: i.load })),
>>>>>>> 6e47ae4 (state: a StateStore (local default, Redis shared) through which control-plane replicas share instances, slots (leases in one Lua round trip, TTL-renewed), health, circuits and affinity; /health reports state_store, /health/ready added)
      engines: engines?.listEngines().map((e) => ({ id: e.id, state: e.state, model: e.model, kind: e.kind, port: e.port, pid: e.pid, restarts: e.restarts })) ?? [],
    };
    return reply.code(status === 'unhealthy' ? 503 : 200).send(body);
  });

<<<<<<< HEAD
  // Readiness (for a Kubernetes readinessProbe): 200 only once every engine of the preset is RUNNING and registered.
  app.get('/health/ready', async (_request, reply) => {
    const r = readiness();
    return reply.code(r.ready ? 200 : 503).send({ ready: r.ready, waitingFor: r.waitingFor, ...(r.failed ? { failed: true } : {}) });
=======
  // Readiness (a load balancer's or Kubernetes' question): this replica takes requests. Not ready only while its
  // shared store is still being tried for the first time; an unreachable store (degraded) still serves.
  app.get('/health/ready', async (_request, reply) => {
    const view = storeView();
    const ready = view.state_store !== 'connecting';
    return reply.code(ready ? 200 : 503).send({ ready, service: SAGE_CONTROL_PLANE_SERVICE, ...view, instances: manager.getInstances().length, queueLength: manager.queueLength });
>>>>>>> 6e47ae4 (state: a StateStore (local default, Redis shared) through which control-plane replicas share instances, slots (leases in one Lua round trip, TTL-renewed), health, circuits and affinity; /health reports state_store, /health/ready added)
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });

  app.get('/v1/metrics', async () => ({
    ...manager.getMetrics(),
    queueLength: manager.queueLength,
    running: manager.status().running,
    instances_live: manager.getInstances().map((i) => ({ id: i.id, type: i.type, health: i.health, circuit: i.circuit, ...(i.drained ? { drained: i.drained } : {}), load: i.load })),
  }));
}
