// The control plane's settings as the CLI sees them: defaults < the saved config ($SAGE_HOME/config.yaml, or
// --config FILE) < command-line flags. Validated with zod at this edge; everything after is typed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { POLICY_NAMES, ROUTER_NAMES } from '@sage/llm-core';
import YAML from 'yaml';
import { z } from 'zod';
import { usageError } from './errors';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const url = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });

export const sageConfigSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8000),
  schedulingPolicy: z.enum(POLICY_NAMES).default('adaptive'),
  router: z.enum(ROUTER_NAMES).default('load_balanced'),
  /** A built-in preset name or a YAML file; default: the embedded default unless backends are given. */
  preset: z.string().min(1).optional(),
  llmModel: z.string().min(1).optional(),
  embeddingModel: z.string().min(1).optional(),
  llmBackends: z.array(url).default([]),
  embeddingBackends: z.array(url).default([]),
  logLevel: z.enum(LOG_LEVELS).default('info'),
  /**
   * Engine ports relative to this base, laid out like the defaults around 8000: LLM engines base+1…base+89,
   * embedding engines base+90…base+199, fallback base+900…base+999.
   */
  enginePortBase: z.number().int().min(1024).max(64_000).default(8000),
  /** How long one engine may take to become healthy (vLLM loading a large model takes minutes). */
  engineStartupTimeoutSec: z.number().positive().max(3600).default(300),
  /** How long `stop` lets in-flight requests finish. */
  drainTimeoutSec: z.number().min(0).max(3600).default(10),
});

export type SageConfig = z.infer<typeof sageConfigSchema>;
export type SageConfigInput = z.input<typeof sageConfigSchema>;
export const CONFIG_KEYS = Object.keys(sageConfigSchema.shape) as (keyof SageConfig)[];

/** snake_case and kebab-case keys are accepted too (log_level, log-level → logLevel). */
function camelKeys(raw: unknown): unknown {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [toCamel(k), v]));
}
const toCamel = (k: string): string => k.replace(/[-_]([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const where = i.path.length ? i.path.join('.') : '(top level)';
      if (i.code === 'unrecognized_keys') return `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')} (known: ${CONFIG_KEYS.join(', ')})`;
      return `${where}: ${i.message}`;
    })
    .join('; ');
}

export function validateConfig(raw: unknown, source: string): SageConfig {
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw usageError(`${source}: expected a mapping of settings (key: value), got ${Array.isArray(raw) ? 'a list' : typeof raw}`);
  const parsed = sageConfigSchema.safeParse(camelKeys(raw));
  if (!parsed.success) throw usageError(`${source}: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** Reads a YAML or JSON file (JSON is YAML) into raw settings; a missing optional file is empty. */
export function readConfigFile(file: string, { optional = false } = {}): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (optional && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw usageError(`config file ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0] ? ` at line ${e.linePos[0].line}` : '';
    // The pretty message repeats the position and adds a code frame: keep the sentence only.
    const what = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw usageError(`config file ${file} is not valid YAML or JSON${line}: ${what}`);
  }
  const raw: unknown = doc.toJS();
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw usageError(`config file ${file}: expected a mapping of settings (key: value), got ${Array.isArray(raw) ? 'a list' : typeof raw}`);
  return camelKeys(raw) as Record<string, unknown>;
}

/** Drops undefined values so they do not override lower layers. */
function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)));
}

export interface ResolveOptions {
  /** --config FILE; default: the saved config in SAGE_HOME (optional). */
  configFile?: string;
  savedConfigFile: string;
  flags?: Record<string, unknown>;
}

/** defaults < config file < flags, validated once. */
export function resolveConfig(options: ResolveOptions): { config: SageConfig; source: string } {
  const file = options.configFile ? path.resolve(options.configFile) : options.savedConfigFile;
  const fromFile = readConfigFile(file, { optional: !options.configFile });
  const source = options.configFile ? `config file ${file}` : `saved config ${file}`;
  // Validate the file alone first so its errors name the file, then the merge (flags name themselves).
  validateConfig(fromFile, source);
  const config = validateConfig({ ...fromFile, ...defined(options.flags ?? {}) }, 'options');
  return { config, source: file };
}

/** Parses a `config set` value by the key's type: numbers, lists (comma-separated) or strings. */
export function coerceValue(key: keyof SageConfig, value: string): unknown {
  const field = sageConfigSchema.shape[key];
  const inner = field instanceof z.ZodDefault || field instanceof z.ZodOptional ? field.unwrap() : field;
  if (inner instanceof z.ZodNumber) {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw usageError(`${key}: expected a number, got "${value}"`);
    return n;
  }
  if (inner instanceof z.ZodArray) return value.split(',').map((s) => s.trim()).filter(Boolean);
  return value;
}

export function isConfigKey(key: string): key is keyof SageConfig {
  return (CONFIG_KEYS as string[]).includes(key);
}

/** `sage inference config set`: validates the whole result before writing; `value` "" removes the key. */
export function setConfigValue(file: string, rawKey: string, value: string): { key: keyof SageConfig; value: unknown } {
  const key = toCamel(rawKey);
  if (!isConfigKey(key)) throw usageError(`unknown config key "${rawKey}" (known: ${CONFIG_KEYS.join(', ')})`);
  const current = readConfigFile(file, { optional: true });
  const next: Record<string, unknown> = { ...current };
  const coerced = value === '' ? undefined : coerceValue(key, value);
  if (coerced === undefined) delete next[key];
  else next[key] = coerced;
  validateConfig(next, `${key}=${value}`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, YAML.stringify(next), 'utf8');
  return { key, value: coerced };
}

export function enginePortRanges(base: number) {
  return {
    llm: { start: base + 1, end: base + 89 },
    embedding: { start: base + 90, end: base + 199 },
    fallback: { start: base + 900, end: base + 999 },
  };
}
