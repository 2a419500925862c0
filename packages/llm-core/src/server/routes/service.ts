// Service endpoints (F-302): what this server is, whether it is healthy, and its metrics.
import type { FastifyInstance } from 'fastify';
import { SAGE_CONTROL_PLANE_SERVICE } from '@sage/common';
import type { ControlPlaneManager } from '../../control-plane/manager';
import type { ControlPlaneMetrics } from '../prometheus';

export interface EngineListing {
  listEngines(): Array<{ id: string; state: string; model: string; kind: string; port: number; pid?: number; restarts: number }>;
}

export interface ServiceInfo {
  version: string;
  startedAt: number;
}

export function registerServiceRoutes(app: FastifyInstance, deps: { manager: ControlPlaneManager; metrics: ControlPlaneMetrics; engines?: EngineListing; info: ServiceInfo }): void {
  const { manager, metrics, engines, info } = deps;

  app.get('/', async () => ({
    name: 'sage',
    service: SAGE_CONTROL_PLANE_SERVICE,
    version: info.version,
    endpoints: {
      openai: ['GET /v1/models', 'POST /v1/chat/completions', 'POST /v1/completions', 'POST /v1/embeddings'],
      service: ['GET /health', 'GET /metrics', 'GET /v1/metrics', 'GET /dashboard'],
      management: '/v1/management',
    },
  }));

  app.get('/health', async (_request, reply) => {
    const instances = manager.getInstances();
    const healthy = instances.filter((i) => i.health === 'healthy').length;
    const status = instances.length === 0 ? 'starting' : healthy === 0 ? 'unhealthy' : healthy < instances.length ? 'degraded' : 'ok';
    const body = {
      status,
      service: SAGE_CONTROL_PLANE_SERVICE,
      version: info.version,
      uptimeSec: Math.round((Date.now() - info.startedAt) / 1000),
      policy: manager.policy.name,
      router: manager.router.name,
      queueLength: manager.queueLength,
      instances: instances.map((i) => ({ id: i.id, type: i.type, models: i.models, health: i.health, circuit: i.circuit, load: i.load })),
      engines: engines?.listEngines().map((e) => ({ id: e.id, state: e.state, model: e.model, kind: e.kind, port: e.port, pid: e.pid, restarts: e.restarts })) ?? [],
    };
    return reply.code(status === 'unhealthy' ? 503 : 200).send(body);
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });

  app.get('/v1/metrics', async () => ({
    ...manager.getMetrics(),
    queueLength: manager.queueLength,
    running: manager.status().running,
    instances_live: manager.getInstances().map((i) => ({ id: i.id, type: i.type, health: i.health, circuit: i.circuit, load: i.load })),
  }));
}
