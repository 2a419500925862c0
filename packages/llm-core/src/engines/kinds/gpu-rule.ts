import { defaultEngineFor, type MachineFacts } from './default-engine';
import type { EngineCategory, EngineKind } from './types';

/** The category a kind serves when the caller does not say (vllm and llama-cpp can serve both). */
export function naturalCategory(kind: EngineKind): EngineCategory {
  return kind === 'tei' || kind === 'sim-embedding' ? 'embedding' : 'llm';
}

/** Categories each kind can serve at all: TEI has no generation, the simulators do one job each. */
export function supportedCategories(kind: EngineKind): readonly EngineCategory[] {
  switch (kind) {
    case 'vllm':
    case 'llama-cpp':
      return ['llm', 'embedding'];
    case 'tei':
    case 'sim-embedding':
      return ['embedding'];
    case 'sim-llm':
      return ['llm'];
  }
}

/** Default engine for a category when a preset or request names only the category (see default-engine.ts). */
export function defaultKindFor(category: EngineCategory, machine?: MachineFacts): EngineKind {
  return defaultEngineFor(category, machine).engine;
}

/**
 * F-213, the three-valued rule: `undefined` → LLM engines use a GPU, embedding engines do not;
 * `true` forces a GPU; `false` forces none.
 */
export function resolveUseGpu(category: EngineCategory, useGpu: boolean | undefined): boolean {
  return useGpu ?? category === 'llm';
}

/**
 * Whether an engine gets GPUs from the GPU manager. The simulators compute nothing on a GPU, so they take one
 * only when asked explicitly (useGpu: true, e.g. to exercise placement); every other kind follows F-213.
 */
export function gpuRequired(kind: EngineKind, category: EngineCategory, useGpu: boolean | undefined): boolean {
  if (kind === 'sim-llm' || kind === 'sim-embedding') return useGpu === true;
  return resolveUseGpu(category, useGpu);
}
