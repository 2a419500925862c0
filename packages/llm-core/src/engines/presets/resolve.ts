// From a validated preset engine to what the lifecycle manager starts, with every default made explicit.
import type { InstanceType } from '../../control-plane/types';
import type { MachineFacts } from '../kinds/default-engine';
import { defaultKindFor, gpuRequired } from '../kinds/gpu-rule';
import type { EngineKind, EngineRole } from '../kinds/types';
import type { InstanceAttributes } from '../../settings/attributes';
import type { EngineStartSpec } from '../lifecycle/types';
import type { PresetEngine } from './schema';

export interface ResolvedPresetEngine extends PresetEngine {
  engine: EngineKind;
  instanceType: InstanceType;
  /** Whether it takes GPUs (F-213 rule; simulators only when asked). */
  gpu: boolean;
}

/** `machine` decides the engine of a declaration without `engine:` (default: this machine, see default-engine.ts). */
export function resolvePresetEngine(e: PresetEngine, machine?: MachineFacts): ResolvedPresetEngine {
  const engine = e.engine ?? defaultKindFor(e.kind, machine);
  return {
    ...e,
    engine,
    instanceType: e.instanceType ?? (e.kind === 'llm' ? 'GENERAL' : 'EMBEDDING'),
    gpu: gpuRequired(engine, e.kind, e.useGpu),
  };
}

function roleOf(t: InstanceType): EngineRole | undefined {
  if (t === 'PREFILLING') return 'prefilling';
  if (t === 'DECODING') return 'decoding';
  return undefined;
}

/** How each kind is told the API key it must require (the simulators take none). */
const API_KEY_ENV: Partial<Record<EngineKind, string>> = { vllm: 'VLLM_API_KEY', tei: 'API_KEY', 'llama-cpp': 'LLAMA_API_KEY' };

/** The start request for one preset engine; the id is `<preset>-<engine name>`. */
export function presetEngineToStartSpec(presetName: string, e: PresetEngine, machine?: MachineFacts): EngineStartSpec {
  const r = resolvePresetEngine(e, machine);
  const keyEnv = r.apiKey !== undefined ? API_KEY_ENV[r.engine] : undefined;
  return {
    id: `${presetName}-${r.name}`,
    label: r.name,
    kind: r.engine,
    category: r.kind,
    model: r.model,
    port: r.port,
    tensorParallel: r.tensorParallel,
    pipelineParallel: r.pipelineParallel,
    useGpu: r.useGpu,
    instanceType: r.instanceType,
    maxConcurrentRequests: r.maxConcurrentRequests,
    role: r.engine === 'sim-llm' ? roleOf(r.instanceType) : undefined,
    extraArgs: r.extraArgs,
    metadata: r.metadata,
    ...(keyEnv ? { env: { [keyEnv]: r.apiKey as string } } : {}),
  };
}

/** What the scheduler needs of a preset engine beyond its process: price, topology, API key. */
export function presetEngineAttributes(e: PresetEngine): InstanceAttributes {
  return { costPerHour: e.costPerHour, machine: e.machine, rack: e.rack, nvlinkGroup: e.nvlinkGroup, apiKey: e.apiKey };
}
