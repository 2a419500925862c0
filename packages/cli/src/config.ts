// The control plane's settings as the CLI sees them: the one settings model of @sage/llm-core, layered
// defaults < preset (its control_plane: section) < the config file ($SAGE_HOME/config.yaml, or --config FILE)
// < SAGE_* environment variables < command-line flags. Every error is a usage error naming where it came from.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  coerceSetting,
  controlPlaneSettingsSchema,
  isSettingKey,
  resolveSettings,
  resolveStartPreset,
  SETTING_KEYS,
  SettingsError,
  type ControlPlaneSettings,
  type SettingKey,
  type SettingSources,
} from '@sage/llm-core';
import YAML from 'yaml';
import { oneLine, usageError } from './errors';

export const sageConfigSchema = controlPlaneSettingsSchema;
export type SageConfig = ControlPlaneSettings;
export const CONFIG_KEYS: readonly SettingKey[] = SETTING_KEYS;

const toCamel = (k: string): string => k.replace(/[-_]([a-z0-9])/g, (_, c: string) => c.toUpperCase());

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
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [toCamel(k), v]));
}

export interface ResolveOptions {
  /** --config FILE; default: the saved config in SAGE_HOME (optional). */
  configFile?: string;
  savedConfigFile: string;
  flags?: Record<string, unknown>;
  /** SAGE_* variables (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface ResolvedConfig {
  config: SageConfig;
  /** Where each setting came from: default, preset, file, env or flag. */
  sources: SettingSources;
  /** The config file read (it may not exist). */
  source: string;
}

function asUsage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SettingsError) throw usageError(oneLine(err));
    throw err;
  }
}

/**
 * defaults < preset < config file < environment < flags. The preset is itself a setting, so it is found from
 * the other layers first, then its control_plane: section goes in beneath them.
 */
export function resolveConfig(options: ResolveOptions): ResolvedConfig {
  const file = options.configFile ? path.resolve(options.configFile) : options.savedConfigFile;
  const fromFile = readConfigFile(file, { optional: !options.configFile });
  const fileName = options.configFile ? `config file ${file}` : `saved config ${file}`;
  const layers = { file: fromFile, fileName, env: options.env ?? process.env, flags: options.flags ?? {} };
  const first = asUsage(() => resolveSettings(layers));
  let presetSection: Record<string, unknown> | undefined;
  try {
    presetSection = resolveStartPreset(first.settings)?.controlPlane;
  } catch (err) {
    throw usageError(`preset: ${oneLine(err)}`);
  }
  if (!presetSection) return { config: first.settings, sources: first.sources, source: file };
  const withPreset = asUsage(() => resolveSettings({ ...layers, preset: presetSection }));
  return { config: withPreset.settings, sources: withPreset.sources, source: file };
}

/** `--set key=value` (repeatable): any setting, by its camelCase or snake_case name. */
export function parseSetFlags(items: readonly string[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of items ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw usageError(`--set ${item}: expected KEY=VALUE (keys: ${CONFIG_KEYS.join(', ')})`);
    const key = toCamel(item.slice(0, eq).trim());
    if (!isSettingKey(key)) throw usageError(`--set: unknown setting "${item.slice(0, eq)}" (known: ${CONFIG_KEYS.join(', ')})`);
    out[key] = asUsage(() => coerceSetting(key, item.slice(eq + 1), `--set ${key}`));
  }
  return out;
}

export function isConfigKey(key: string): key is SettingKey {
  return isSettingKey(key);
}

/** `sage inference config set`: validates the whole result before writing; `value` "" removes the key. */
export function setConfigValue(file: string, rawKey: string, value: string): { key: SettingKey; value: unknown } {
  const key = toCamel(rawKey);
  if (!isConfigKey(key)) throw usageError(`unknown config key "${rawKey}" (known: ${CONFIG_KEYS.join(', ')})`);
  const current = readConfigFile(file, { optional: true });
  const next: Record<string, unknown> = { ...current };
  const coerced = value === '' ? undefined : asUsage(() => coerceSetting(key, value));
  if (coerced === undefined) delete next[key];
  else next[key] = coerced;
  asUsage(() => resolveSettings({ file: next, fileName: `${key}=${value}` }));
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
