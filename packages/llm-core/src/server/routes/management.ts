// The management API (F-303): a fastify plugin registered with the prefix /v1/management and its own key check
// (the admin key). Start, register, list, stop (with drain), prune engines; status, backends, GPUs; apply presets.
// Each route declares its zod schema (camelCase or snake_case keys); domain errors are SageErrors carrying their
// status (400 invalid, 404 unknown engine, 409 conflict, 503 not ready), mapped by the shared HTTP edge.
import type { FastifyPluginAsync } from 'fastify';
import { SageError } from '@sage/common';
import type { ZodTypeProvider } from '@sage/common/http';
import { z } from 'zod';
import { InstanceType } from '../../control-plane/types';
import { defaultEngineFor, ENGINE_KINDS } from '../../engines/kinds';
import { placementShape } from '../../settings/attributes';
import { publicSettings, type SettingSources } from '../../settings/resolve';
import type { ControlPlaneSettings, PresetControlPlane } from '../../settings/schema';
import { EngineNotFoundError, type EngineInfo } from '../../engines/lifecycle';
import { getBuiltinPreset, listBuiltinPresets, normalisePresetKeys, parsePreset, planPreset, validatePreset, type Preset } from '../../engines/presets';
import type { ControlPlaneRuntime } from '../../runtime/control-plane-runtime';
import { requireKey, type KeyRing } from '../auth';

const INSTANCE_TYPES = Object.values(InstanceType) as [InstanceType, ...InstanceType[]];

const StartEngineBody = z.strictObject({
  model: z.string().min(1).max(512),
  kind: z.enum(['llm', 'embedding']).default('llm'),
  engine: z.enum(ENGINE_KINDS).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  tensorParallel: z.number().int().min(1).max(64).optional(),
  pipelineParallel: z.number().int().min(1).max(64).optional(),
  instanceType: z.enum(INSTANCE_TYPES).optional(),
  maxConcurrentRequests: z.number().int().min(1).max(100_000).optional(),
  requiredMemoryGb: z.number().positive().max(10_000).optional(),
  label: z.string().min(1).max(128).optional(),
  useGpu: z.boolean().optional(),
  extraArgs: z.array(z.string().max(4096)).max(256).optional(),
  dimensions: z.number().int().positive().max(65536).optional(),
  timeScale: z.number().positive().max(1000).optional(),
  ...placementShape,
  apiKey: z.string().min(1).optional(),
});

const RegisterBody = z.strictObject({
  baseUrl: z.url({ protocol: /^https?$/ }),
  kind: z.enum(['llm', 'embedding']).optional(),
  id: z.string().min(1).max(128).regex(/^[A-Za-z0-9._-]+$/).optional(),
  models: z.array(z.string().min(1)).max(256).optional(),
  apiKey: z.string().min(1).optional(),
  instanceType: z.enum(INSTANCE_TYPES).optional(),
  maxConcurrency: z.number().int().min(1).optional(),
  ...placementShape,
});

const ApplyPresetBody = z.strictObject({
  /** A built-in preset name. */
  name: z.string().min(1).optional(),
  /** A preset as YAML text. */
  yaml: z.string().min(1).max(1_000_000).optional(),
  /** A preset as a JSON object. */
  preset: z.unknown().optional(),
  rollback: z.boolean().default(true),
  dryRun: z.boolean().default(false),
});

/** Accepts snake_case keys too (tensor_parallel → tensorParallel); no body is an empty one. */
function camelKeys(body: unknown): unknown {
  if (body === null || body === undefined) return {};
  if (typeof body !== 'object' || Array.isArray(body)) return body;
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()), v]));
}

const EngineIdParams = z.object({ id: z.string().min(1) });
const StopQuery = z.object({ drain: z.string().optional() });

function publicEngine(e: EngineInfo) {
  const { events, ...rest } = e;
  return { ...rest, events: events.slice(-20) };
}

/** The settings the control plane was started with, and where each came from. */
export interface ManagementSettings {
  settings: ControlPlaneSettings;
  sources: SettingSources;
}

/**
 * A preset's control_plane: section applied while serving: PD separation and its thresholds change at once;
 * the rest is fixed at start, so a value that differs is reported, not silently ignored.
 */
function applyControlPlane(runtime: ControlPlaneRuntime, started: ControlPlaneSettings | undefined, cp: PresetControlPlane | undefined) {
  const applied: string[] = [];
  const notApplied: { key: string; value: unknown; running: unknown; reason: string }[] = [];
  if (!cp) return { applied, notApplied };
  const live = { pdSeparation: 'enabled', pdMinInputTokens: 'minInputTokens', pdMinInputOutputRatio: 'minInputOutputRatio' } as const;
  for (const [key, value] of Object.entries(cp)) {
    if (value === undefined) continue;
    if (key in live) {
      runtime.manager.setPdSeparation({ [live[key as keyof typeof live]]: value });
      applied.push(key);
      continue;
    }
    const running = started?.[key as keyof ControlPlaneSettings];
    if (running !== value) notApplied.push({ key, value, running, reason: 'set when the control plane starts: restart it with this preset to use it' });
  }
  return { applied, notApplied };
}

export interface ManagementRoutesOptions {
  runtime: ControlPlaneRuntime;
  /** The settings the control plane was started with (GET /settings). */
  settings?: ManagementSettings;
  /** Keys accepted on these routes (the admin key, else the API keys; none: open). */
  keys: KeyRing;
}

/** The management API, to register with `{ prefix: '/v1/management' }`. */
export const managementRoutes: FastifyPluginAsync<ManagementRoutesOptions> = async (scope, { runtime, settings, keys }) => {
  scope.addHook('onRequest', requireKey(keys));
  const app = scope.withTypeProvider<ZodTypeProvider>();

  app.post('/engines', { schema: { body: z.preprocess(camelKeys, StartEngineBody) } }, async (request, reply) => {
    const b = request.body;
    const chosen = b.engine ? undefined : defaultEngineFor(b.kind);
    if (chosen) request.log.info({ model: b.model, chosen: chosen.engine, reason: chosen.reason }, `engine start names no engine: ${chosen.engine} (${chosen.reason})`);
    const info = await runtime.startEngine({
      kind: b.engine ?? (chosen?.engine as (typeof ENGINE_KINDS)[number]),
      category: b.kind,
      model: b.model,
      port: b.port,
      tensorParallel: b.tensorParallel,
      pipelineParallel: b.pipelineParallel,
      instanceType: b.instanceType,
      maxConcurrentRequests: b.maxConcurrentRequests,
      requiredMemoryGb: b.requiredMemoryGb,
      label: b.label,
      useGpu: b.useGpu,
      extraArgs: b.extraArgs,
      dimensions: b.dimensions,
      timeScale: b.timeScale,
      role: b.instanceType === 'PREFILLING' ? 'prefilling' : b.instanceType === 'DECODING' ? 'decoding' : undefined,
    }, { costPerHour: b.costPerHour, machine: b.machine, rack: b.rack, nvlinkGroup: b.nvlinkGroup, apiKey: b.apiKey });
    return reply.code(201).send(publicEngine(info));
  });

  app.post('/engines/register', { schema: { body: z.preprocess(camelKeys, RegisterBody) } }, async (request, reply) => {
    const inst = await runtime.registerBackend(request.body);
    const { apiKey: _secret, ...visible } = inst;
    return reply.code(201).send({ ...visible, external: true });
  });

  app.get('/engines', async () => ({
    engines: runtime.engines.listEngines().map(publicEngine),
    backends: runtime.manager
      .getInstances()
      .filter((i) => runtime.isBackend(i.id))
      .map(({ apiKey: _secret, ...i }) => i),
  }));

  app.delete('/engines/:id', { schema: { params: EngineIdParams, querystring: StopQuery } }, async (request) => {
    const { id } = request.params;
    const drain = request.query.drain === 'true' || request.query.drain === '1';
    const owner = runtime.engineOwner(id);
    if (owner) throw new SageError(`engine ${id} runs under replica ${owner}; stop it through that replica`, { status: 409, code: 'engine_of_another_replica', param: 'id' });
    if (!runtime.isBackend(id) && !runtime.engines.getEngine(id)) throw new EngineNotFoundError(id);
    const info = await runtime.stopEngine(id, { drain });
    return info ? publicEngine(info) : { id, external: true, removed: true };
  });

  app.post('/engines/prune', async () => ({ pruned: await runtime.engines.prune() }));

  app.get('/settings', async () => ({
    settings: settings ? publicSettings(settings.settings) : null,
    sources: settings?.sources ?? null,
    pdSeparation: runtime.manager.pdSeparation,
  }));

  app.get('/status', async () => ({
    scheduler: (({ instances, ...s }) => ({ ...s, instances: instances.map(({ apiKey: _secret, ...i }) => i) }))(runtime.manager.status()),
    engines: runtime.engines.listEngines().map(publicEngine),
    gpus: runtime.gpus.status(),
    ports: runtime.ports.reservations(),
    supervisor: runtime.supervisor.options,
  }));

  app.get('/backends', async () => ({
    backends: runtime.manager.getInstances().map(({ apiKey: _secret, ...i }) => ({ ...i, external: runtime.isBackend(i.id) })),
  }));

  app.get('/gpu', async () => ({ gpus: runtime.gpus.status(), allocations: runtime.gpus.listAllocations() }));

  app.get('/presets', async () => ({
    presets: listBuiltinPresets().map((p) => ({ name: p.name, description: p.description, engines: p.engines.length })),
  }));

  app.post('/presets/apply', { schema: { body: z.preprocess(camelKeys, ApplyPresetBody) } }, async (request, reply) => {
    const b = request.body;
    let preset: Preset;
    if (b.yaml) preset = parsePreset(b.yaml, 'request body yaml');
    else if (b.preset !== undefined) preset = validatePreset(normalisePresetKeys(b.preset).value, 'request body preset');
    else if (b.name) {
      const found = getBuiltinPreset(b.name);
      if (!found) throw new SageError(`no built-in preset "${b.name}"`, { status: 404, code: 'preset_not_found', param: 'name' });
      preset = found;
    } else {
      throw new SageError('give one of "name", "yaml" or "preset"', { status: 400, code: 'missing_preset', param: 'name' });
    }
    if (b.dryRun) return { dryRun: true, plan: planPreset(preset), controlPlane: preset.controlPlane ?? null };
    const result = await runtime.applyPreset(preset, { rollback: b.rollback });
    const controlPlane = result.ok ? applyControlPlane(runtime, settings?.settings, preset.controlPlane) : undefined;
    return reply.code(result.ok ? 201 : 502).send({
      ...result,
      ...(controlPlane ? { controlPlane } : {}),
      started: result.started.map((s) => ({ name: s.name, engine: publicEngine(s.result) })),
    });
  });
};
