// GET /v1/models and GET /v1/models/{id}: the models the registered instances serve, each with its kind(s) and the
// instances behind it. Model ids may contain "/" (BAAI/bge-m3), so the single-model route takes the rest of the path.
import type { FastifyInstance } from 'fastify';
import { SageError } from '@sage/common';
import type { ControlPlaneManager } from '../../control-plane/manager';
import { InstanceType } from '../../control-plane/types';

/** The engines this control plane runs, by id (an instance started from an engine has the engine's id). */
export interface EngineKinds {
  listEngines(): ReadonlyArray<{ id: string; kind: string }>;
}

interface ModelEntry {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  sage_kind: 'llm' | 'embedding';
  sage_kinds: string[];
  sage_instances: string[];
  sage_engines: string[];
}

function servedModels(manager: ControlPlaneManager, engines: EngineKinds | undefined): ModelEntry[] {
  // Which engine serves a model tells a client what it gets (e.g. a gateway picks its retrieval for a lexical
  // simulator); external backends run an engine the control plane does not know, and add none.
  const engineKind = new Map((engines?.listEngines() ?? []).map((e) => [e.id, e.kind]));
  const models = new Map<string, { kinds: Set<string>; instances: string[]; engines: Set<string> }>();
  for (const inst of manager.getInstances()) {
    const kind = inst.type === InstanceType.EMBEDDING ? 'embedding' : 'llm';
    for (const m of inst.models) {
      const entry = models.get(m) ?? { kinds: new Set<string>(), instances: [], engines: new Set<string>() };
      entry.kinds.add(kind);
      if (inst.type === InstanceType.LLM_EMBEDDING) entry.kinds.add('embedding');
      entry.instances.push(inst.id);
      const engine = engineKind.get(inst.id);
      if (engine) entry.engines.add(engine);
      models.set(m, entry);
    }
  }
  const created = Math.floor(Date.now() / 1000);
  return [...models].map(([id, e]) => ({
    id,
    object: 'model',
    created,
    owned_by: 'sage-control-plane',
    sage_kind: e.kinds.has('llm') ? 'llm' : 'embedding',
    sage_kinds: [...e.kinds],
    sage_instances: e.instances,
    sage_engines: [...e.engines],
  }));
}

export function registerModelRoutes(app: FastifyInstance, manager: ControlPlaneManager, engines?: EngineKinds): void {
  app.get('/v1/models', async () => ({ object: 'list', data: servedModels(manager, engines) }));

  app.get<{ Params: { '*': string } }>('/v1/models/*', async (request) => {
    const id = request.params['*'];
    const model = servedModels(manager, engines).find((m) => m.id === id);
    if (model) return model;
    throw new SageError(`The model '${id}' does not exist`, { status: 404, type: 'invalid_request_error', param: 'model', code: 'model_not_found' });
  });
}
