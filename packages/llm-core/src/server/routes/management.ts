// The management API (F-303) under /v1/management: start, register, list, stop (with drain), prune engines;
// status, backends, GPUs; apply presets. Bodies are validated with zod (camelCase or snake_case keys);
// domain errors carry their status (400 invalid, 404 unknown engine, 409 conflict, 503 not ready).
import type { FastifyInstance } from 'fastify';
import { openAIError } from '@sage/common';
import { z } from 'zod';
import { InstanceType } from '../../control-plane/types';
import { defaultEngineFor, ENGINE_KINDS } from '../../engines/kinds';
import { placementShape } from '../../settings/attributes';
import { publicSettings, type SettingSources } from '../../settings/resolve';
import type { ControlPlaneSettings, PresetControlPlane } from '../../settings/schema';
import { EngineNotFoundError, type EngineInfo } from '../../engines/lifecycle';
import { getBuiltinPreset, listBuiltinPresets, normalisePresetKeys, parsePreset, planPreset, validatePreset, type Preset } from '../../engines/presets';
import type { ControlPlaneRuntime } from '../../runtime/control-plane-runtime';
import { sendError } from '../errors';
import { zodIssueToOpenAIError } from '@sage/common';

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

/** Accepts snake_case keys too (tensor_parallel → tensorParallel). */
function camelKeys(body: unknown): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()), v]));
}

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

export function registerManagementRoutes(app: FastifyInstance, runtime: ControlPlaneRuntime, settings?: ManagementSettings): void {
  const base = '/v1/management';

  const bad = (error: z.ZodError) => {
    const e = zodIssueToOpenAIError(error);
    return e;
  };

  app.post(`${base}/engines`, async (request, reply) => {
    const parsed = StartEngineBody.safeParse(camelKeys(request.body ?? {}));
    if (!parsed.success) {
      const e = bad(parsed.error);
      return reply.code(e.status).send(e.body);
    }
    const b = parsed.data;
    const chosen = b.engine ? undefined : defaultEngineFor(b.kind);
    if (chosen) request.log.info({ model: b.model, chosen: chosen.engine, reason: chosen.reason }, `engine start names no engine: ${chosen.engine} (${chosen.reason})`);
    try {
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
    } catch (err) {
      return sendError(reply, err);
    }
  });

  app.post(`${base}/engines/register`, async (request, reply) => {
    const parsed = RegisterBody.safeParse(camelKeys(request.body ?? {}));
    if (!parsed.success) {
      const e = bad(parsed.error);
      return reply.code(e.status).send(e.body);
    }
    try {
      const inst = await runtime.registerBackend(parsed.data);
      const { apiKey: _secret, ...visible } = inst;
      return reply.code(201).send({ ...visible, external: true });
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (typeof status === 'number') return reply.code(status).send(openAIError(status, (err as Error).message, { code: (err as { code?: string }).code ?? null }).body);
      return sendError(reply, err);
    }
  });

  app.get(`${base}/engines`, async () => ({
    engines: runtime.engines.listEngines().map(publicEngine),
    backends: runtime.manager
      .getInstances()
      .filter((i) => runtime.isBackend(i.id))
      .map(({ apiKey: _secret, ...i }) => i),
  }));

  app.delete<{ Params: { id: string }; Querystring: { drain?: string } }>(`${base}/engines/:id`, async (request, reply) => {
    const { id } = request.params;
    const drain = request.query.drain === 'true' || request.query.drain === '1';
    const owner = runtime.engineOwner(id);
    if (owner) return reply.code(409).send(openAIError(409, `engine ${id} runs under replica ${owner}; stop it through that replica`, { code: 'engine_of_another_replica', param: 'id' }).body);
    if (!runtime.isBackend(id) && !runtime.engines.getEngine(id)) return sendError(reply, new EngineNotFoundError(id));
    try {
      const info = await runtime.stopEngine(id, { drain });
      return reply.send(info ? publicEngine(info) : { id, external: true, removed: true });
    } catch (err) {
      return sendError(reply, err);
    }
  });

  app.post(`${base}/engines/prune`, async () => ({ pruned: await runtime.engines.prune() }));

  app.get(`${base}/settings`, async () => ({
    settings: settings ? publicSettings(settings.settings) : null,
    sources: settings?.sources ?? null,
    pdSeparation: runtime.manager.pdSeparation,
  }));

  app.get(`${base}/status`, async () => ({
    scheduler: (({ instances, ...s }) => ({ ...s, instances: instances.map(({ apiKey: _secret, ...i }) => i) }))(runtime.manager.status()),
    engines: runtime.engines.listEngines().map(publicEngine),
    gpus: runtime.gpus.status(),
    ports: runtime.ports.reservations(),
    supervisor: runtime.supervisor.options,
  }));

  app.get(`${base}/backends`, async () => ({
    backends: runtime.manager.getInstances().map(({ apiKey: _secret, ...i }) => ({ ...i, external: runtime.isBackend(i.id) })),
  }));

  app.get(`${base}/gpu`, async () => ({ gpus: runtime.gpus.status(), allocations: runtime.gpus.listAllocations() }));

  app.get(`${base}/presets`, async () => ({
    presets: listBuiltinPresets().map((p) => ({ name: p.name, description: p.description, engines: p.engines.length })),
  }));

  app.post(`${base}/presets/apply`, async (request, reply) => {
    const parsed = ApplyPresetBody.safeParse(camelKeys(request.body ?? {}));
    if (!parsed.success) {
      const e = bad(parsed.error);
      return reply.code(e.status).send(e.body);
    }
    const b = parsed.data;
    let preset: Preset;
    try {
      if (b.yaml) preset = parsePreset(b.yaml, 'request body yaml');
      else if (b.preset !== undefined) preset = validatePreset(normalisePresetKeys(b.preset).value, 'request body preset');
      else if (b.name) {
        const found = getBuiltinPreset(b.name);
        if (!found) return reply.code(404).send(openAIError(404, `no built-in preset "${b.name}"`, { param: 'name', code: 'preset_not_found' }).body);
        preset = found;
      } else {
        return reply.code(400).send(openAIError(400, 'give one of "name", "yaml" or "preset"', { param: 'name', code: 'missing_preset' }).body);
      }
    } catch (err) {
      return sendError(reply, err);
    }
    if (b.dryRun) return reply.send({ dryRun: true, plan: planPreset(preset), controlPlane: preset.controlPlane ?? null });
    const result = await runtime.applyPreset(preset, { rollback: b.rollback });
    const controlPlane = result.ok ? applyControlPlane(runtime, settings?.settings, preset.controlPlane) : undefined;
    return reply.code(result.ok ? 201 : 502).send({
      ...result,
      ...(controlPlane ? { controlPlane } : {}),
      started: result.started.map((s) => ({ name: s.name, engine: publicEngine(s.result) })),
    });
  });
}
