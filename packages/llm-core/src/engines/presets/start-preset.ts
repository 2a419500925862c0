// Which preset a start serves — shared by the server's start and the embedded client, so both serve the
// same embedded default.
import { DEFAULT_PRESET_NAME, getBuiltinPreset } from './builtin';
import { loadPreset } from './load';
import type { Preset } from './schema';

/** The preset name that starts no engines. */
export const NO_PRESET = 'none';

export interface StartPresetChoice {
  /** A built-in preset name, a YAML file path, a parsed preset, or false (or "none") for no engines. */
  preset?: string | Preset | false;
  llmModel?: string;
  embeddingModel?: string;
  llmBackends?: readonly unknown[];
  embeddingBackends?: readonly unknown[];
}

/**
 * The preset a start serves: the one named (built-in name or YAML file), else the embedded default unless
 * external backends were given; `llmModel` / `embeddingModel` rename its engines' models.
 */
export function resolveStartPreset(choice: StartPresetChoice): Preset | undefined {
  const hasBackends = (choice.llmBackends?.length ?? 0) + (choice.embeddingBackends?.length ?? 0) > 0;
  const ref = choice.preset ?? (hasBackends ? false : DEFAULT_PRESET_NAME);
  // "none": a control plane that launches nothing (replicas whose engines register themselves).
  if (ref === false || ref === NO_PRESET) return undefined;
  const preset = typeof ref === 'string' ? (getBuiltinPreset(ref) ?? loadPreset(ref)) : ref;
  if (!choice.llmModel && !choice.embeddingModel) return preset;
  return {
    ...preset,
    engines: preset.engines.map((e) => ({ ...e, model: e.kind === 'llm' ? (choice.llmModel ?? e.model) : (choice.embeddingModel ?? e.model) })),
  };
}
