// Built-in presets, kept as TS constants so they ship in dist (tsc does not copy .yaml files).
import { parsePreset, type Preset } from './schema';

export const DEFAULT_PRESET_NAME = 'default';

const BUILTIN_YAML: Readonly<Record<string, string>> = {
  default: `
version: 1
name: default
description: The embedded default - one simulated LLM and one simulated embedding engine (no GPU, no download).
engines:
  - name: llm
    kind: llm
    engine: sim-llm
    model: sage-sim-llm
  - name: embedding
    kind: embedding
    engine: sim-embedding
    model: sage-sim-embedding
`,
  'sim-pd': `
version: 1
name: sim-pd
description: Prefill/decode separation on simulators - a PREFILLING and a DECODING sim-llm plus an embedding engine.
control_plane:
  pd_separation: true
engines:
  - name: prefill
    kind: llm
    engine: sim-llm
    model: sage-sim-llm
    instance_type: PREFILLING
  - name: decode
    kind: llm
    engine: sim-llm
    model: sage-sim-llm
    instance_type: DECODING
  - name: embedding
    kind: embedding
    engine: sim-embedding
    model: sage-sim-embedding
`,
  'vllm-qwen-7b': `
version: 1
name: vllm-qwen-7b
description: Qwen2.5-7B-Instruct on vLLM (one GPU) with BAAI/bge-m3 on text-embeddings-inference (CPU unless use_gpu).
engines:
  - name: qwen-7b
    kind: llm
    engine: vllm
    model: Qwen/Qwen2.5-7B-Instruct
    tensor_parallel: 1
    max_concurrent_requests: 64
  - name: bge-m3
    kind: embedding
    engine: tei
    model: BAAI/bge-m3
    use_gpu: false
`,
};

export function listBuiltinPresets(): Preset[] {
  return Object.entries(BUILTIN_YAML).map(([name, text]) => parsePreset(text, `built-in preset ${name}`));
}

export function builtinPresetNames(): string[] {
  return Object.keys(BUILTIN_YAML);
}

export function getBuiltinPreset(name: string): Preset | undefined {
  const text = BUILTIN_YAML[name];
  return text === undefined ? undefined : parsePreset(text, `built-in preset ${name}`);
}

/** YAML text of a built-in preset (for `sage llm preset show`). */
export function builtinPresetYaml(name: string): string | undefined {
  return BUILTIN_YAML[name]?.trimStart();
}
