// UnifiedInferenceClient.create({ instances }): each entry is either an engine to start in-process (supervised,
// stopped with the client) or a server started elsewhere to register. camelCase or snake_case keys, the
// seeds' names included (model_name, instance_type: PREFILL | DECODE | llm | embedding, gpu_count).
import { z } from 'zod';
import { ENGINE_KINDS, naturalCategory, type EngineCategory } from '../engines/kinds';
import { validatePreset, type Preset, type PresetEngine } from '../engines/presets';
import type { BackendRegistration } from '../runtime/control-plane-runtime';
import { instanceTypeSchema, placementShape } from '../settings/attributes';

export const instanceDeclarationSchema = z
  .strictObject({
    /** Name of an engine to start (default llm-N / embedding-N); id of a registered server. */
    name: z.string().min(1).max(64).regex(/^[A-Za-z0-9][\w.-]*$/, 'letters, digits, ".", "_" and "-" only').optional(),
    /** Engine to start (default: chosen by what the machine has, see default-engine.ts). */
    engine: z.enum(ENGINE_KINDS).optional(),
    kind: z.enum(['llm', 'embedding']).optional(),
    /** A server started elsewhere: its URL, or host and port. */
    url: z.url({ protocol: /^https?$/ }).optional(),
    host: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    model: z.string().min(1).optional(),
    models: z.array(z.string().min(1)).min(1).optional(),
    instanceType: instanceTypeSchema.optional(),
    maxConcurrency: z.number().int().min(1).max(100_000).optional(),
    /** GPUs an engine to start takes (tensor parallel); informational for a registered server. */
    gpuCount: z.number().int().min(0).max(64).optional(),
    useGpu: z.boolean().optional(),
    apiKey: z.string().min(1).optional(),
    ...placementShape,
  })
  .superRefine((d, ctx) => {
    const external = d.url !== undefined || d.host !== undefined || d.port !== undefined;
    if (external && d.engine) ctx.addIssue({ code: 'custom', path: ['engine'], message: 'an instance is either started (engine) or registered (url, host/port), not both' });
    if (d.host !== undefined && d.port === undefined) ctx.addIssue({ code: 'custom', path: ['port'], message: 'required with host' });
    if (!external && !d.model && !d.models?.length) ctx.addIssue({ code: 'custom', path: ['model'], message: 'required for an engine to start' });
  });

export type InstanceDeclaration = z.input<typeof instanceDeclarationSchema>;

const toCamel = (k: string): string => k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function categoryOf(d: z.infer<typeof instanceDeclarationSchema>): EngineCategory {
  if (d.kind) return d.kind;
  if (d.instanceType === 'EMBEDDING') return 'embedding';
  if (d.engine) return naturalCategory(d.engine);
  return 'llm';
}

export interface PlannedInstances {
  /** Engines to start, as a preset (supervised by the runtime). */
  preset?: Preset;
  /** Servers to register. */
  backends: BackendRegistration[];
  /** The first LLM and embedding model declared (the client's defaults). */
  llmModel?: string;
  embeddingModel?: string;
}

/** Validates the declarations and splits them into engines to start and servers to register. */
export function planInstances(raw: readonly unknown[]): PlannedInstances {
  const engines: PresetEngine[] = [];
  const backends: BackendRegistration[] = [];
  let llmModel: string | undefined;
  let embeddingModel: string | undefined;
  const counts = { llm: 0, embedding: 0 };
  raw.forEach((entry, index) => {
    let value = entry;
    if (entry && typeof entry === 'object' && !Array.isArray(entry)) {
      const { modelName, ...rest } = Object.fromEntries(Object.entries(entry).map(([k, v]) => [toCamel(k), v])) as Record<string, unknown>;
      // The seeds call it model_name.
      value = modelName !== undefined && rest.model === undefined ? { ...rest, model: modelName } : rest;
    }
    planOne(value, index);
  });

  function planOne(value: unknown, index: number): void {
    const parsed = instanceDeclarationSchema.safeParse(value);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'instance'}: ${i.message}`).join('; ');
      throw new RangeError(`instances[${index}]: ${why}`);
    }
    const d = parsed.data;
    const category = categoryOf(d);
    const models = d.models ?? (d.model ? [d.model] : undefined);
    if (category === 'llm') llmModel ??= models?.[0];
    else embeddingModel ??= models?.[0];
    const placement = { costPerHour: d.costPerHour, machine: d.machine, rack: d.rack, nvlinkGroup: d.nvlinkGroup };
    if (d.url !== undefined || d.host !== undefined) {
      const baseUrl = d.url ?? `http://${d.host!.includes(':') ? `[${d.host}]` : d.host}:${d.port}/v1`;
      backends.push({ baseUrl, kind: category, id: d.name, models, instanceType: d.instanceType, maxConcurrency: d.maxConcurrency, apiKey: d.apiKey, ...placement });
      return;
    }
    counts[category] += 1;
    engines.push({
      name: d.name ?? `${category}-${counts[category]}`,
      kind: category,
      engine: d.engine,
      model: models![0]!,
      instanceType: d.instanceType,
      maxConcurrentRequests: d.maxConcurrency,
      tensorParallel: d.gpuCount && d.gpuCount > 0 ? d.gpuCount : undefined,
      useGpu: d.useGpu,
      apiKey: d.apiKey,
      ...placement,
    });
  }

  return {
    preset: engines.length ? validatePreset({ version: 1, name: 'embedded', description: 'UnifiedInferenceClient.create({ instances })', engines }, 'instances') : undefined,
    backends,
    llmModel,
    embeddingModel,
  };
}
