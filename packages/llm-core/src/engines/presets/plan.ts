// Dry run of a preset (`sage llm preset apply --dry-run`): what would start, where, with which command and GPUs.
import { buildCommand, formatCommand, type CommandBuildOptions } from '../kinds';
import { estimateModelMemory } from '../gpu/memory';
import { DEFAULT_PORT_RANGES, type PortKind, type PortRanges } from '../ports/port-allocator';
import type { InstanceType } from '../../control-plane/types';
import type { EngineKind } from '../kinds/types';
import { presetEngineToStartSpec, resolvePresetEngine } from './resolve';
import type { Preset } from './schema';

export interface PlannedEngine {
  id: string;
  name: string;
  kind: PortKind;
  engine: EngineKind;
  model: string;
  instanceType: InstanceType;
  /** The explicit port, or the one the allocator would pick now (`portIsAuto`), which may differ at apply. */
  port: number;
  portIsAuto: boolean;
  useGpu: boolean;
  gpu: { count: number; memoryGbPerGpu: number; parametersB: number; dtype: string } | null;
  command: string;
}

export interface PresetPlan {
  preset: string;
  description: string;
  engines: PlannedEngine[];
  /** Sum over engines that use GPUs. */
  gpusNeeded: number;
}

export interface PlanOptions extends CommandBuildOptions {
  /** Port the allocator would hand out (without reserving); default: walk the configured ranges. */
  previewPort?: (kind: PortKind, alreadyPlanned: readonly number[]) => number;
  ranges?: PortRanges;
}

export function planPreset(preset: Preset, options: PlanOptions = {}): PresetPlan {
  const ranges = options.ranges ?? DEFAULT_PORT_RANGES;
  const planned: number[] = preset.engines.flatMap((e) => (e.port !== undefined ? [e.port] : []));
  const preview =
    options.previewPort ??
    ((kind: PortKind, taken: readonly number[]) => {
      let p = ranges[kind].start;
      while (taken.includes(p)) p++;
      return p;
    });
  const engines = preset.engines.map((raw): PlannedEngine => {
    const e = resolvePresetEngine(raw);
    const spec = presetEngineToStartSpec(preset.name, raw);
    const portIsAuto = e.port === undefined;
    const port = e.port ?? preview(e.kind, planned);
    if (portIsAuto) planned.push(port);
    const count = (e.tensorParallel ?? 1) * (e.pipelineParallel ?? 1);
    const est = e.gpu ? estimateModelMemory(e.model, { category: e.kind, tensorParallel: e.tensorParallel, pipelineParallel: e.pipelineParallel }) : undefined;
    const cmd = buildCommand({ ...spec, kind: e.engine, port }, options);
    return {
      id: spec.id ?? e.name,
      name: e.name,
      kind: e.kind,
      engine: e.engine,
      model: e.model,
      instanceType: e.instanceType,
      port,
      portIsAuto,
      useGpu: e.gpu,
      gpu: est ? { count, memoryGbPerGpu: est.perGpuGb, parametersB: est.parametersB, dtype: est.dtype } : null,
      command: formatCommand(cmd),
    };
  });
  return {
    preset: preset.name,
    description: preset.description,
    engines,
    gpusNeeded: engines.reduce((n, e) => n + (e.gpu?.count ?? 0), 0),
  };
}
