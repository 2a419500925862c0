// The engine for a declaration that names none (a preset engine without `engine:`, `sage llm engine start`
// without --engine, POST /v1/management/engines without "engine"), decided in one place by what the machine
// has: vLLM for LLMs when a GPU and the `vllm` executable are found, TEI for embeddings when its
// `text-embeddings-router` is found; otherwise the built-in simulators, which run anywhere.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EngineCategory, EngineKind } from './types';

export interface MachineFacts {
  /** A GPU is visible: nvidia-smi is installed, or SAGE_GPU_MOCK_COUNT is above 0. */
  gpu: boolean;
  /** Engine executables found on PATH. */
  binaries: { vllm: boolean; tei: boolean };
}

export interface DefaultEngineChoice {
  engine: EngineKind;
  /** Why, in words (logged when a simulator is chosen). */
  reason: string;
  simulated: boolean;
}

/** The executable names the real engines are started with (see builders.ts). */
export const ENGINE_BINARIES = { vllm: 'vllm', tei: 'text-embeddings-router', nvidiaSmi: 'nvidia-smi' } as const;

function onPath(name: string, env: NodeJS.ProcessEnv): boolean {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    try {
      fs.accessSync(path.join(dir, name), fs.constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

/** Looks at PATH and the GPU mock switch (cheap and synchronous: no process is run). */
export function detectMachine(env: NodeJS.ProcessEnv = process.env): MachineFacts {
  const mock = Number(env.SAGE_GPU_MOCK_COUNT ?? '');
  const gpu = env.SAGE_GPU_MOCK_COUNT !== undefined && env.SAGE_GPU_MOCK_COUNT.trim() !== '' ? mock > 0 : onPath(ENGINE_BINARIES.nvidiaSmi, env);
  return { gpu, binaries: { vllm: onPath(ENGINE_BINARIES.vllm, env), tei: onPath(ENGINE_BINARIES.tei, env) } };
}

export function defaultEngineFor(category: EngineCategory, machine: MachineFacts = detectMachine()): DefaultEngineChoice {
  if (category === 'llm') {
    if (machine.gpu && machine.binaries.vllm) return { engine: 'vllm', reason: 'a GPU and the vllm executable were found', simulated: false };
    const missing = [machine.gpu ? undefined : 'no GPU', machine.binaries.vllm ? undefined : 'no vllm executable on PATH'].filter(Boolean).join(' and ');
    return { engine: 'sim-llm', reason: `${missing} found, so the built-in simulator sim-llm serves it`, simulated: true };
  }
  if (machine.binaries.tei) return { engine: 'tei', reason: 'the text-embeddings-router executable was found', simulated: false };
  return { engine: 'sim-embedding', reason: 'no text-embeddings-router executable on PATH, so the built-in simulator sim-embedding serves it', simulated: true };
}
