// Preset files (F-214): YAML validated with zod; snake_case keys are accepted and normalised to camelCase.
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { InstanceType } from '../../control-plane/types';
import { ENGINE_CATEGORIES, ENGINE_KINDS } from '../kinds/types';
import { supportedCategories } from '../kinds/gpu-rule';
import { placementShape } from '../../settings/attributes';
import { presetControlPlaneSchema } from '../../settings/schema';
import { SageError } from '@sage/common';

const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: (iss) => (iss.input === undefined ? 'required' : `expected one of ${values.join('|')}, got ${JSON.stringify(iss.input)}`) });

const positiveInt = z.number({ error: 'expected a number' }).int('expected an integer').min(1, 'must be at least 1');

const INSTANCE_TYPES = Object.values(InstanceType) as [InstanceType, ...InstanceType[]];

export const presetEngineSchema = z.strictObject({
  name: z.string({ error: 'required (a string)' }).regex(/^[A-Za-z0-9][\w.-]*$/, 'letters, digits, ".", "_" and "-" only'),
  kind: oneOf(ENGINE_CATEGORIES),
  engine: oneOf(ENGINE_KINDS).optional(),
  model: z.string({ error: 'required (a string)' }).min(1, 'must not be empty'),
  port: z.number({ error: 'expected a number' }).int('expected an integer').min(1).max(65535).optional(),
  tensorParallel: positiveInt.optional(),
  pipelineParallel: positiveInt.optional(),
  instanceType: oneOf(INSTANCE_TYPES).optional(),
  maxConcurrentRequests: positiveInt.optional(),
  useGpu: z.boolean({ error: 'expected true or false' }).optional(),
  extraArgs: z.array(z.string({ error: 'expected a string' }), { error: 'expected a list of strings' }).optional(),
  metadata: z.record(z.string(), z.unknown(), { error: 'expected a mapping' }).optional(),
  /** Price and topology (cost_per_hour, machine, rack, nvlink_group), for cost_optimized and topology_aware. */
  ...placementShape,
  /** The key the engine requires and the control plane presents to it; never shown in status or logs. */
  apiKey: z.string({ error: 'expected a string' }).min(1, 'must not be empty').optional(),
});

export const presetSchema = z
  .strictObject({
    version: z.literal(1, { error: 'expected 1' }),
    name: z.string({ error: 'required (a string)' }).min(1, 'must not be empty'),
    description: z.string({ error: 'expected a string' }).default(''),
    engines: z.array(presetEngineSchema, { error: 'required (a list of engines)' }).min(1, 'at least one engine'),
    /** Control-plane settings this preset needs (e.g. pd_separation for PREFILLING/DECODING engines). */
    controlPlane: presetControlPlaneSchema.optional(),
  })
  .superRefine((preset, ctx) => {
    const seen = new Map<string, number>();
    preset.engines.forEach((e, i) => {
      const first = seen.get(e.name);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['engines', i, 'name'], message: `duplicate engine name "${e.name}" (also engines[${first}])` });
      else seen.set(e.name, i);
      if (e.engine && !supportedCategories(e.engine).includes(e.kind)) {
        ctx.addIssue({ code: 'custom', path: ['engines', i, 'engine'], message: `${e.engine} cannot serve kind ${e.kind}` });
      }
      if (e.instanceType) {
        const embeddingType = e.instanceType === 'EMBEDDING';
        if ((e.kind === 'embedding') !== embeddingType && e.instanceType !== 'LLM_EMBEDDING') {
          ctx.addIssue({ code: 'custom', path: ['engines', i, 'instanceType'], message: `${e.instanceType} does not fit kind ${e.kind}` });
        }
      }
    });
  });

export type PresetEngine = z.infer<typeof presetEngineSchema>;
export type Preset = z.infer<typeof presetSchema>;

/** A preset that does not parse or validate; `issues` name the bad fields as `engines[1].kind`. */
export class PresetError extends SageError {
  constructor(
    message: string,
    readonly issues: readonly string[] = [],
  ) {
    super(message, { status: 400, code: 'invalid_preset' });
  }
}

const camel = (key: string): string => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

type Path = (string | number)[];

/** camelCases the keys of one mapping (not recursively: metadata stays as written). */
function camelKeys(value: unknown, path: Path, problems: string[]): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const k = camel(key);
    if (k in out) problems.push(`${formatPath([...path, k])}: given twice (as ${key} and in camelCase)`);
    out[k] = v;
  }
  return out;
}

/** Accepts snake_case and camelCase keys at the preset and engine levels. */
export function normalisePresetKeys(raw: unknown): { value: unknown; problems: string[] } {
  const problems: string[] = [];
  const top = camelKeys(raw, [], problems) as Record<string, unknown> | unknown;
  if (top && typeof top === 'object' && !Array.isArray(top) && Array.isArray((top as Record<string, unknown>).engines)) {
    const t = top as Record<string, unknown>;
    t.engines = (t.engines as unknown[]).map((e, i) => camelKeys(e, ['engines', i], problems));
  }
  if (top && typeof top === 'object' && !Array.isArray(top)) {
    const t = top as Record<string, unknown>;
    if (t.controlPlane && typeof t.controlPlane === 'object') t.controlPlane = camelKeys(t.controlPlane, ['controlPlane'], problems);
  }
  return { value: top, problems };
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(preset)';
}

function formatIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `${formatPath(issue.path)}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
  return `${formatPath(issue.path)}: ${issue.message}`;
}

/** Validates an already-parsed object (e.g. a JSON body of POST /presets/apply). */
export function validatePreset(raw: unknown, source = 'preset'): Preset {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new PresetError(`${source}: expected a mapping at the top level`);
  const { value, problems } = normalisePresetKeys(raw);
  const result = presetSchema.safeParse(value);
  const issues = [...problems, ...(result.success ? [] : result.error.issues.map(formatIssue))];
  if (issues.length > 0 || !result.success) {
    throw new PresetError(`invalid ${source}:\n  ${issues.join('\n  ')}`, issues);
  }
  return result.data;
}

/** Parses and validates preset YAML (JSON is YAML too). */
export function parsePreset(text: string, source = 'preset'): Preset {
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true });
  } catch (err) {
    const msg = err instanceof YAMLParseError ? err.message : String(err);
    throw new PresetError(`${source} is not valid YAML: ${msg}`);
  }
  return validatePreset(raw, source);
}
