// Port and GPU reservations of one engine: taken together, given back together, and rolled back when any
// part (or building its command) fails so a refused start holds nothing.
import { estimateModelMemory } from '../gpu/memory';
import type { GPUResourceManager } from '../gpu/gpu-resource-manager';
import { EngineSpecError } from '../kinds/builders';
import { gpuRequired } from '../kinds/gpu-rule';
import type { CommandLine, EngineCategory } from '../kinds/types';
import type { PortAllocator } from '../ports/port-allocator';
import type { Entry, Reservation } from './entry';
import type { EngineStartSpec } from './types';

/** Reserves the spec's port (or allocates one) and the GPUs it needs, then builds its command with them. */
export async function reserveForStart(
  ports: PortAllocator,
  gpus: GPUResourceManager | undefined,
  spec: EngineStartSpec,
  id: string,
  category: EngineCategory,
  build: (port: number, gpuIds: number[]) => CommandLine,
): Promise<Reservation> {
  const port = spec.port !== undefined ? await ports.reserve(spec.port, id) : await ports.allocate(category, id);
  const useGpu = gpuRequired(spec.kind, category, spec.useGpu);
  let gpuIds: number[] = [];
  let memoryGbPerGpu: number | undefined;
  try {
    if (useGpu) {
      if (!gpus) throw new EngineSpecError(`engine ${id} needs a GPU but this control plane has no GPU manager`);
      const count = (spec.tensorParallel ?? 1) * (spec.pipelineParallel ?? 1);
      memoryGbPerGpu =
        spec.requiredMemoryGb ??
        estimateModelMemory(spec.model, { category, tensorParallel: spec.tensorParallel, pipelineParallel: spec.pipelineParallel }).perGpuGb;
      gpuIds = gpus.allocate(id, { count, memoryGb: memoryGbPerGpu }).gpuIds;
    }
    return { port, useGpu, gpuIds, memoryGbPerGpu, cmd: build(port, gpuIds) };
  } catch (err) {
    ports.release(port, id);
    gpus?.release(id);
    throw err;
  }
}

/** Takes back the same port and as many GPUs (same memory) for a restart of a stopped or never-started engine. */
export async function reacquire(ports: PortAllocator, gpus: GPUResourceManager | undefined, e: Entry): Promise<void> {
  const id = e.info.id;
  await ports.reserve(e.info.port, id);
  if (e.info.gpuIds.length && gpus) {
    try {
      gpus.allocate(id, { count: e.info.gpuIds.length, memoryGb: e.memoryGbPerGpu ?? 0 });
    } catch (err) {
      ports.release(e.info.port, id);
      throw err;
    }
  }
}
