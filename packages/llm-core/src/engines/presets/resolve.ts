// From a validated preset engine to what the lifecycle manager starts, with every default made explicit.
import type { InstanceType } from '../../control-plane/types';
import { defaultKindFor, gpuRequired } from '../kinds/gpu-rule';
import type { EngineKind, EngineRole } from '../kinds/types';
import type { EngineStartSpec } from '../lifecycle/types';
import type { PresetEngine } from './schema';

export interface ResolvedPresetEngine extends PresetEngine {
  engine: EngineKind;
  instanceType: InstanceType;
  /** Whether it takes GPUs (F-213 rule; simulators only when asked). */
  gpu: boolean;
}

export function resolvePresetEngine(e: PresetEngine): ResolvedPresetEngine {
  const engine = e.engine ?? defaultKindFor(e.kind);
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

/** The start request for one preset engine; the id is `<preset>-<engine name>`. */
export function presetEngineToStartSpec(presetName: string, e: PresetEngine): EngineStartSpec {
  const r = resolvePresetEngine(e);
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
  };
}
