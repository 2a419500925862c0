import * as fs from 'node:fs';
import { builtinPresetNames, getBuiltinPreset } from './builtin';
import { parsePreset, PresetError, type Preset } from './schema';

/** A built-in preset by name, or a YAML file by path (a name that is both: the file wins if it exists). */
export function loadPreset(ref: string): Preset {
  if (fs.existsSync(ref) && fs.statSync(ref).isFile()) return parsePreset(fs.readFileSync(ref, 'utf8'), ref);
  const builtin = getBuiltinPreset(ref);
  if (builtin) return builtin;
  throw new PresetError(`no preset "${ref}": not a file, and the built-in presets are ${builtinPresetNames().join(', ')}`);
}
