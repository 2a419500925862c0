// Effective settings from layers, lowest first: defaults < preset (its control_plane: section) < file <
// environment < flags. Each layer is validated alone first, so an error names where the bad value came from;
// the result records, per key, which layer gave it.
import { z } from 'zod';
import {
  controlPlaneSettingsSchema,
  isSettingKey,
  presetControlPlaneSchema,
  SETTING_DOCS,
  SETTING_KEYS,
  type ControlPlaneSettings,
  type SettingKey,
} from './schema';
import { SageError } from '@sage/common';

export const SETTING_SOURCES = ['default', 'preset', 'file', 'env', 'flag'] as const;
export type SettingSource = (typeof SETTING_SOURCES)[number];
export type SettingSources = Record<SettingKey, SettingSource>;

/** A setting that does not validate; the message names its layer and key (e.g. `SAGE_PORT: expected …`). */
export class SettingsError extends SageError {
  constructor(
    message: string,
    readonly issues: readonly string[] = [],
  ) {
    super(message, { status: 400, code: 'invalid_settings' });
  }
}

const toCamel = (k: string): string => k.replace(/[-_]([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** snake_case and kebab-case keys become camelCase (log_level, log-level → logLevel); nested values stay. */
export function camelSettingKeys(raw: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [toCamel(k), v]));
}

/** Drops undefined values (and empty lists) so they do not hide lower layers. */
function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)));
}

/**
 * A union's issues from the branch the value was meant for (a map with a bad class, not "expected a number"):
 * the branch whose issues are not all about the value's type.
 */
function unionBranch(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  return issues.flatMap((i) => {
    if (i.code !== 'invalid_union') return [i];
    const branch = i.errors.find((errs) => !errs.every((e) => e.code === 'invalid_type' && e.path.length === 0));
    return branch ? unionBranch(branch.map((e) => ({ ...e, path: [...i.path, ...e.path] }))) : [i];
  });
}

function describe(error: z.ZodError, label: (key: string) => string): string[] {
  return unionBranch(error.issues).map((i) => {
    if (i.code === 'unrecognized_keys' && i.path.length === 0) return `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')} (known: ${SETTING_KEYS.join(', ')})`;
    const key = i.path.length ? String(i.path[0]) : '';
    const rest = i.path.slice(1).map(String).join('.');
    return `${key ? label(key) : '(top level)'}${rest ? `.${rest}` : ''}: ${i.message}`;
  });
}

/** Validates one layer alone (unknown keys and bad values are errors), naming keys with `label`. */
function checkLayer(values: Record<string, unknown>, source: string, label: (key: string) => string = (k) => k): void {
  const parsed = controlPlaneSettingsSchema.partial().safeParse(values);
  if (!parsed.success) {
    const issues = describe(parsed.error, label);
    throw new SettingsError(`${source}: ${issues.join('; ')}`, issues);
  }
}

/** The field's schema with default/optional wrappers taken off, to coerce strings by type. */
function innerType(key: SettingKey): z.ZodType {
  let t: z.ZodType = controlPlaneSettingsSchema.shape[key];
  while (t instanceof z.ZodDefault || t instanceof z.ZodOptional) t = (t as z.ZodDefault<z.ZodType> | z.ZodOptional<z.ZodType>).unwrap() as z.ZodType;
  return t;
}

/**
 * A setting's value from a string (environment variable, `config set`, `--set key=value`): numbers, booleans
 * (true/false/1/0/yes/no/on/off), backend lists (separated by spaces or ";"), or the string itself.
 */
export function coerceSetting(key: SettingKey, value: string, name: string = key): unknown {
  const inner = innerType(key);
  const v = value.trim();
  if (inner instanceof z.ZodNumber) {
    const n = Number(v);
    if (v === '' || !Number.isFinite(n)) throw new SettingsError(`${name}: expected a number, got "${value}"`);
    return n;
  }
  if (inner instanceof z.ZodBoolean) {
    if (/^(true|1|yes|on)$/i.test(v)) return true;
    if (/^(false|0|no|off)$/i.test(v)) return false;
    throw new SettingsError(`${name}: expected true or false, got "${value}"`);
  }
  if (inner instanceof z.ZodUnion) {
    // A number for every class, or CLASS=VALUE pairs separated by commas (HIGH=500,LOW=10000).
    if (!v.includes('=')) {
      const n = Number(v);
      if (v === '' || !Number.isFinite(n)) throw new SettingsError(`${name}: expected a number or CLASS=NUMBER pairs (HIGH=500,LOW=10000), got "${value}"`);
      return n;
    }
    const out: Record<string, number> = {};
    for (const pair of v.split(',').map((p) => p.trim()).filter(Boolean)) {
      const eq = pair.indexOf('=');
      const cls = pair.slice(0, Math.max(0, eq)).trim().toUpperCase();
      const n = Number(pair.slice(eq + 1).trim());
      if (eq <= 0) throw new SettingsError(`${name}: expected CLASS=NUMBER, got "${pair}"`);
      if (pair.slice(eq + 1).trim() === '' || !Number.isFinite(n)) throw new SettingsError(`${name}: ${cls}: expected a number, got "${pair.slice(eq + 1).trim()}"`);
      out[cls] = n;
    }
    return out;
  }
  if (inner instanceof z.ZodArray) {
    // Backends: separated by ";" or spaces; an item with no key=value part may list bare URLs with commas.
    return v
      .split(/[;\s]+/)
      .flatMap((item) => (item.includes('=') ? [item] : item.split(',')))
      .map((item) => item.trim())
      .filter(Boolean);
  }
  return v;
}

/** The SAGE_* variables that are set (empty counts as unset), as setting values. */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<Record<SettingKey, unknown>> {
  const out: Partial<Record<SettingKey, unknown>> = {};
  for (const key of SETTING_KEYS) {
    const name = SETTING_DOCS[key].env;
    const raw = name ? env[name] : undefined;
    if (raw === undefined || raw.trim() === '') continue;
    out[key] = coerceSetting(key, raw, name);
  }
  const byKey = (k: string) => (isSettingKey(k) ? (SETTING_DOCS[k].env ?? k) : k);
  checkLayer(out, 'environment', byKey);
  return out;
}

export interface SettingsLayers {
  /** A preset's control_plane: section (scheduling keys only). */
  preset?: Record<string, unknown>;
  /** The config file, already read (YAML or JSON; snake_case keys accepted). */
  file?: Record<string, unknown>;
  /** Where the file came from, for error messages. */
  fileName?: string;
  /** Environment variables: the variables themselves (SAGE_*), read by settingsFromEnv. */
  env?: NodeJS.ProcessEnv;
  /** Command-line flags and create() options: undefined values are not set. */
  flags?: Record<string, unknown>;
}

export interface ResolvedSettings {
  settings: ControlPlaneSettings;
  sources: SettingSources;
}

/** defaults < preset < file < environment < flags, validated per layer and as a whole. */
export function resolveSettings(layers: SettingsLayers): ResolvedSettings {
  const stack: Array<[SettingSource, Record<string, unknown>]> = [];
  if (layers.preset) {
    const preset = camelSettingKeys(layers.preset);
    const parsed = presetControlPlaneSchema.safeParse(preset);
    if (!parsed.success) {
      const issues = describe(parsed.error, (k) => `control_plane.${k}`);
      throw new SettingsError(`preset: ${issues.join('; ')}`, issues);
    }
    stack.push(['preset', defined(preset)]);
  }
  if (layers.file) {
    const file = camelSettingKeys(layers.file);
    checkLayer(file, layers.fileName ?? 'config file');
    stack.push(['file', defined(file)]);
  }
  if (layers.env) stack.push(['env', settingsFromEnv(layers.env) as Record<string, unknown>]);
  if (layers.flags) {
    const flags = defined(camelSettingKeys(layers.flags));
    checkLayer(flags, 'options');
    stack.push(['flag', flags]);
  }
  const merged: Record<string, unknown> = {};
  const sources = Object.fromEntries(SETTING_KEYS.map((k) => [k, 'default'])) as SettingSources;
  for (const [source, values] of stack) {
    for (const [k, v] of Object.entries(values)) {
      merged[k] = v;
      if (isSettingKey(k)) sources[k] = source;
    }
  }
  const parsed = controlPlaneSettingsSchema.safeParse(merged);
  if (!parsed.success) {
    const issues = describe(parsed.error, (k) => k);
    throw new SettingsError(`settings: ${issues.join('; ')}`, issues);
  }
  return { settings: parsed.data, sources };
}

/** Settings fit to show (config show, /v1/management/settings, server.json): backend API keys hidden. */
export function publicSettings(s: ControlPlaneSettings): ControlPlaneSettings {
  const hide = (list: ControlPlaneSettings['llmBackends']) => list.map((b) => (b.apiKey === undefined ? b : { ...b, apiKey: '***' }));
  return { ...s, llmBackends: hide(s.llmBackends), embeddingBackends: hide(s.embeddingBackends) };
}
