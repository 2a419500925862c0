// Dry run of a preset (`sage llm preset apply --dry-run`): what would start, where, with which command and GPUs.
import { buildCommand, formatCommand, redactCommand, type CommandBuildOptions } from '../kinds';
import { estimateModelMemory } from '../gpu/memory';
import { DEFAULT_PORT_RANGES, type PortAllocator, type PortKind, type PortRanges } from '../ports/port-allocator';
import type { GPUResourceManager } from '../gpu/gpu-resource-manager';
import type { InstanceType } from '../../control-plane/types';
import type { EngineKind } from '../kinds/types';
import type { MachineFacts } from '../kinds/default-engine';
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
  /** Filled by planPresetOnHost: whether the port and GPUs can be had right now, and if not why. */
  check?: { ok: boolean; problems: string[]; gpuIds?: number[] };
}

export interface PresetPlan {
  preset: string;
  description: string;
  engines: PlannedEngine[];
  /** Sum over engines that use GPUs. */
  gpusNeeded: number;
  /** Filled by planPresetOnHost: every engine's check passed. */
  feasible?: boolean;
}

export interface PlanOptions extends CommandBuildOptions {
  /** Port the allocator would hand out (without reserving); default: walk the configured ranges. */
  previewPort?: (kind: PortKind, alreadyPlanned: readonly number[]) => number;
  ranges?: PortRanges;
  /** What decides the engine of declarations without `engine:` (default: this machine). */
  machine?: MachineFacts;
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
    const e = resolvePresetEngine(raw, options.machine);
    const spec = presetEngineToStartSpec(preset.name, raw, options.machine);
    const portIsAuto = e.port === undefined;
    const port = e.port ?? preview(e.kind, planned);
    if (portIsAuto) planned.push(port);
    const count = (e.tensorParallel ?? 1) * (e.pipelineParallel ?? 1);
    const est = e.gpu ? estimateModelMemory(e.model, { category: e.kind, tensorParallel: e.tensorParallel, pipelineParallel: e.pipelineParallel }) : undefined;
    const built = buildCommand({ ...spec, kind: e.engine, port }, options);
    const [command, ...args] = redactCommand([built.command, ...built.args]);
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
      command: formatCommand({ command, args }),
    };
  });
  return {
    preset: preset.name,
    description: preset.description,
    engines,
    gpusNeeded: engines.reduce((n, e) => n + (e.gpu?.count ?? 0), 0),
  };
}

/**
 * The dry run against this host: ports previewed from the real allocator (free now, not reserved), explicit
 * ports checked for conflicts, GPU needs tried against the GPU manager's current reservations.
 */
export async function planPresetOnHost(
  preset: Preset,
  host: { ports: PortAllocator; gpus?: GPUResourceManager },
  options: CommandBuildOptions = {},
): Promise<PresetPlan> {
  const problems = new Map<string, string[]>();
  const explicit = preset.engines.flatMap((e) => (e.port !== undefined ? [e.port] : []));
  const previews: number[] = [];
  for (const e of preset.engines) {
    if (e.port !== undefined) {
      const holder = host.ports.holder(e.port);
      if (holder !== undefined) problems.set(e.name, [`port ${e.port} is reserved by ${holder}`]);
      else if (!(await host.ports.isFree(e.port))) problems.set(e.name, [`port ${e.port} is in use`]);
      continue;
    }
    try {
      previews.push(await host.ports.peek(e.kind, [...explicit, ...previews]));
    } catch (err) {
      previews.push(0);
      problems.set(e.name, [(err as Error).message]);
    }
  }
  let next = 0;
  const plan = planPreset(preset, { ...options, ranges: host.ports.ranges, previewPort: () => previews[next++] });
  const gpuEngines = plan.engines.filter((e) => e.gpu);
  const fits = host.gpus
    ? host.gpus.wouldFit(gpuEngines.map((e) => ({ engineId: e.id, count: e.gpu?.count ?? 1, memoryGb: e.gpu?.memoryGbPerGpu ?? 0 })))
    : gpuEngines.map((e) => ({ engineId: e.id, ok: false, reason: 'no GPU manager', gpuIds: undefined }));
  for (const e of plan.engines) {
    const list = problems.get(e.name) ?? [];
    const fit = fits.find((f) => f.engineId === e.id);
    if (fit && !fit.ok && fit.reason) list.push(fit.reason);
    e.check = { ok: list.length === 0, problems: list, ...(fit?.gpuIds ? { gpuIds: fit.gpuIds } : {}) };
  }
  plan.feasible = plan.engines.every((e) => e.check?.ok);
  return plan;
}
