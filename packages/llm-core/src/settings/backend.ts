// An external backend (an OpenAI-compatible server started elsewhere) as declared in settings, on the
// command line (`--llm-backend url=…,model=…,type=PREFILLING,cost=2.5,machine=gpu-a`, or a bare URL) or in
// UnifiedInferenceClient.create({ instances }). Parsed once here; the runtime registers what comes out.
import { z } from 'zod';
import { instanceTypeSchema, placementShape } from './attributes';
import { SageError } from '@sage/common';

const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });

export const backendDeclarationSchema = z.strictObject({
  url: httpUrl,
  /** Instance id (default: generated from type, host and port). */
  id: z.string().min(1).max(128).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only').optional(),
  /** Models it serves (default: read from its /v1/models). */
  models: z.array(z.string().min(1).max(512)).max(256).optional(),
  type: instanceTypeSchema.optional(),
  maxConcurrency: z.number().int().min(1).max(100_000).optional(),
  /** Presented to the backend as a bearer token; never shown in status, /health or logs. */
  apiKey: z.string().min(1).optional(),
  ...placementShape,
});

export type BackendDeclaration = z.infer<typeof backendDeclarationSchema>;

/** Keys of the `key=value,…` form, with their short names. */
const SPEC_KEYS: Readonly<Record<string, keyof BackendDeclaration>> = {
  url: 'url',
  id: 'id',
  model: 'models',
  models: 'models',
  type: 'type',
  instance_type: 'type',
  max_concurrency: 'maxConcurrency',
  concurrency: 'maxConcurrency',
  api_key: 'apiKey',
  key: 'apiKey',
  cost: 'costPerHour',
  cost_per_hour: 'costPerHour',
  machine: 'machine',
  rack: 'rack',
  nvlink_group: 'nvlinkGroup',
  nvlink: 'nvlinkGroup',
};

const NUMERIC = new Set<keyof BackendDeclaration>(['maxConcurrency', 'costPerHour']);

export class BackendSpecError extends SageError {
  constructor(message: string) {
    super(message, { status: 400, code: 'invalid_backend_spec' });
  }
}

function describe(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      if (i.code === 'unrecognized_keys') return `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}`;
      return `${i.path.length ? i.path.join('.') : 'backend'}: ${i.message}`;
    })
    .join('; ');
}

/**
 * `http://host:8001/v1` or `url=http://host:8001/v1,model=m,type=PREFILLING,cost=2.5,machine=gpu-a,rack=r1,
 * nvlink_group=g0,max_concurrency=16,api_key=sk-…,id=name` (model may repeat). Throws BackendSpecError.
 */
export function parseBackendSpec(spec: string): BackendDeclaration {
  const text = spec.trim();
  if (!text) throw new BackendSpecError('empty backend: give a URL or url=…,model=…');
  const raw: Record<string, unknown> = {};
  if (/^https?:\/\//i.test(text) && !/,\s*[a-z_]+=/i.test(text)) {
    raw.url = text;
  } else {
    for (const part of text.split(',')) {
      const item = part.trim();
      if (!item) continue;
      const eq = item.indexOf('=');
      if (eq < 0) {
        // The first item may be the URL itself: `http://h:1/v1,model=m`.
        if (/^https?:\/\//i.test(item) && raw.url === undefined) {
          raw.url = item;
          continue;
        }
        throw new BackendSpecError(`"${item}" is not key=value (keys: ${Object.keys(SPEC_KEYS).join(', ')})`);
      }
      const name = item.slice(0, eq).trim().toLowerCase().replace(/-/g, '_');
      const value = item.slice(eq + 1).trim();
      const key = SPEC_KEYS[name];
      if (!key) throw new BackendSpecError(`unknown key "${name}" (keys: ${Object.keys(SPEC_KEYS).join(', ')})`);
      if (key === 'models') {
        raw.models = [...((raw.models as string[] | undefined) ?? []), ...value.split('|').map((m) => m.trim()).filter(Boolean)];
      } else if (NUMERIC.has(key)) {
        const n = Number(value);
        if (value === '' || !Number.isFinite(n)) throw new BackendSpecError(`${name}: expected a number, got "${value}"`);
        raw[key] = n;
      } else {
        if (raw[key] !== undefined) throw new BackendSpecError(`${name} is given twice`);
        raw[key] = value;
      }
    }
  }
  if (raw.url === undefined) throw new BackendSpecError('url=… is required');
  const parsed = backendDeclarationSchema.safeParse(raw);
  if (!parsed.success) throw new BackendSpecError(describe(parsed.error));
  return parsed.data;
}

/** A backend given as a spec string or as an object (snake_case keys accepted), validated. */
export const backendEntrySchema = z.union([z.string(), z.record(z.string(), z.unknown())]).transform((value, ctx): BackendDeclaration => {
  try {
    if (typeof value === 'string') return parseBackendSpec(value);
    const camel = Object.fromEntries(Object.entries(value).map(([k, v]) => [k.replace(/[-_]([a-z0-9])/g, (_, c: string) => c.toUpperCase()), v]));
    if (camel.model !== undefined && camel.models === undefined) {
      camel.models = Array.isArray(camel.model) ? camel.model : [camel.model];
      delete camel.model;
    }
    const parsed = backendDeclarationSchema.safeParse(camel);
    if (!parsed.success) throw new BackendSpecError(describe(parsed.error));
    return parsed.data;
  } catch (err) {
    ctx.issues.push({ code: 'custom', message: (err as Error).message, input: value });
    return z.NEVER;
  }
});

/** A backend for display: the API key replaced, so it can be printed, logged or written to server.json. */
export function redactBackend(b: BackendDeclaration): BackendDeclaration {
  return b.apiKey === undefined ? b : { ...b, apiKey: '***' };
}
