// GPUResourceManager (F-212): the only place GPUs are handed out. Reservations are logical (this process's
// bookkeeping); nvidia-smi's numbers are refreshed on demand and combined with them.
import { execCommandRunner, queryNvidiaSmi } from './nvidia-smi';
import type { CommandRunner, GpuInfo, GpuSource } from './types';
import { SageError } from '@sage/common';

export const DEFAULT_MOCK_MEMORY_GB = 24;
const MB_PER_GB = 1024;

export type GpuAllocationReason = 'no_gpus' | 'insufficient_gpus' | 'insufficient_memory' | 'already_allocated' | 'invalid_request';

/** An allocation that cannot be granted; the management API turns it into 409 with `reason`. */
export class GpuAllocationError extends SageError {
  constructor(
    readonly reason: GpuAllocationReason,
    message: string,
  ) {
    super(message, { status: 409, code: reason });
  }
}

export interface GpuRequest {
  /** Number of GPUs (tensor × pipeline parallel). */
  count: number;
  /** Memory needed on each of them, GB. */
  memoryGb: number;
}

export interface GpuAllocation {
  engineId: string;
  gpuIds: number[];
  memoryGbPerGpu: number;
}

export interface GpuStatus extends GpuInfo {
  memoryTotalGb: number;
  /** Reserved by engines of this control plane, GB. */
  reservedGb: number;
  /** What is left for new allocations, GB. */
  freeGb: number;
  engines: string[];
}

export interface GpuManagerOptions {
  runner?: CommandRunner;
  /** Environment for the mock switches; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Fixed GPU list instead of nvidia-smi or the mock (tests, external inventories). */
  gpus?: GpuInfo[];
  nvidiaSmiTimeoutMs?: number;
}

/** Mock GPUs from SAGE_GPU_MOCK_COUNT / SAGE_GPU_MOCK_MEMORY_GB, or undefined when the mock is off. */
export function mockGpusFromEnv(env: NodeJS.ProcessEnv): GpuInfo[] | undefined {
  const countRaw = env.SAGE_GPU_MOCK_COUNT;
  if (countRaw === undefined || countRaw.trim() === '') return undefined;
  const count = Number(countRaw);
  if (!Number.isInteger(count) || count < 0) throw new Error(`SAGE_GPU_MOCK_COUNT must be a non-negative integer, got "${countRaw}"`);
  const memRaw = env.SAGE_GPU_MOCK_MEMORY_GB;
  const memoryGb = memRaw === undefined || memRaw.trim() === '' ? DEFAULT_MOCK_MEMORY_GB : Number(memRaw);
  if (!(memoryGb > 0)) throw new Error(`SAGE_GPU_MOCK_MEMORY_GB must be a positive number, got "${memRaw}"`);
  return Array.from({ length: count }, (_, index) => ({
    index,
    name: `Mock GPU ${index}`,
    memoryTotalMb: Math.round(memoryGb * MB_PER_GB),
    memoryUsedMb: 0,
    utilizationPct: 0,
  }));
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

export class GPUResourceManager {
  private gpus: GpuInfo[] = [];
  private sourceKind: GpuSource = 'none';
  private lastError: string | undefined;
  private warnings: string[] = [];
  private readonly allocations = new Map<string, GpuAllocation>();

  constructor(private readonly options: GpuManagerOptions = {}) {
    if (options.gpus) this.set('mock', options.gpus, undefined, []); // a fixed list needs no refresh
  }

  /** Builds a manager and reads the GPUs once. */
  static async create(options: GpuManagerOptions = {}): Promise<GPUResourceManager> {
    const manager = new GPUResourceManager(options);
    await manager.refresh();
    return manager;
  }

  /** Re-reads the GPU list: fixed list, else the mock when enabled, else nvidia-smi. */
  async refresh(): Promise<void> {
    if (this.options.gpus) {
      this.set('mock', this.options.gpus, undefined, []);
      return;
    }
    const mock = mockGpusFromEnv(this.options.env ?? process.env);
    if (mock) {
      this.set('mock', mock, mock.length === 0 ? 'SAGE_GPU_MOCK_COUNT=0' : undefined, []);
      return;
    }
    const q = await queryNvidiaSmi(this.options.runner ?? execCommandRunner, this.options.nvidiaSmiTimeoutMs);
    this.set(q.gpus.length > 0 ? 'nvidia-smi' : 'none', q.gpus, q.error, q.warnings);
  }

  private set(source: GpuSource, gpus: GpuInfo[], error: string | undefined, warnings: string[]): void {
    this.sourceKind = source;
    this.gpus = [...gpus].sort((a, b) => a.index - b.index);
    this.lastError = error;
    this.warnings = warnings;
  }

  get source(): GpuSource {
    return this.sourceKind;
  }

  /** Why no GPUs are available (nvidia-smi missing, failing, none found), if so. */
  get error(): string | undefined {
    return this.lastError;
  }

  get parseWarnings(): readonly string[] {
    return this.warnings;
  }

  private reservedGb(index: number): number {
    let sum = 0;
    for (const a of this.allocations.values()) if (a.gpuIds.includes(index)) sum += a.memoryGbPerGpu;
    return sum;
  }

  /**
   * Measured usage already includes our own engines once they have loaded, and reservations cover engines
   * still loading: the larger of the two counts as taken, so neither is counted twice.
   */
  private freeGb(gpu: GpuInfo): number {
    const taken = Math.max(gpu.memoryUsedMb / MB_PER_GB, this.reservedGb(gpu.index));
    return Math.max(0, gpu.memoryTotalMb / MB_PER_GB - taken);
  }

  status(): GpuStatus[] {
    return this.gpus.map((g) => ({
      ...g,
      memoryTotalGb: round2(g.memoryTotalMb / MB_PER_GB),
      reservedGb: round2(this.reservedGb(g.index)),
      freeGb: round2(this.freeGb(g)),
      engines: [...this.allocations.values()].filter((a) => a.gpuIds.includes(g.index)).map((a) => a.engineId),
    }));
  }

  /** Everything `GET /v1/management/gpu` shows: where the list came from, why it is empty, GPUs, allocations. */
  snapshot(): { source: GpuSource; error?: string; warnings: string[]; gpus: GpuStatus[]; allocations: GpuAllocation[] } {
    return {
      source: this.sourceKind,
      ...(this.lastError ? { error: this.lastError } : {}),
      warnings: [...this.warnings],
      gpus: this.status(),
      allocations: this.listAllocations(),
    };
  }

  allocation(engineId: string): GpuAllocation | undefined {
    const a = this.allocations.get(engineId);
    return a && { ...a, gpuIds: [...a.gpuIds] };
  }

  listAllocations(): GpuAllocation[] {
    return [...this.allocations.values()].map((a) => ({ ...a, gpuIds: [...a.gpuIds] }));
  }

  /**
   * Reserves `count` GPUs with `memoryGb` free on each, preferring the GPUs with the most free memory
   * (spreads engines out). Throws GpuAllocationError with a reason when it does not fit.
   */
  allocate(engineId: string, request: GpuRequest): GpuAllocation {
    if (this.allocations.has(engineId)) {
      throw new GpuAllocationError('already_allocated', `engine ${engineId} already holds GPUs ${this.allocations.get(engineId)?.gpuIds.join(',')}`);
    }
    if (!Number.isInteger(request.count) || request.count < 1 || !(request.memoryGb >= 0)) {
      throw new GpuAllocationError('invalid_request', `invalid GPU request: count=${request.count}, memoryGb=${request.memoryGb}`);
    }
    if (this.gpus.length === 0) {
      throw new GpuAllocationError('no_gpus', `no GPUs available${this.lastError ? ` (${this.lastError})` : ''}; start the engine with useGpu=false or set SAGE_GPU_MOCK_COUNT`);
    }
    if (request.count > this.gpus.length) {
      throw new GpuAllocationError('insufficient_gpus', `engine needs ${request.count} GPUs, this machine has ${this.gpus.length}`);
    }
    const fitting = this.gpus
      .map((g) => ({ g, free: this.freeGb(g) }))
      .filter((x) => x.free >= request.memoryGb)
      .sort((a, b) => b.free - a.free || a.g.index - b.g.index);
    if (fitting.length < request.count) {
      const best = this.gpus.map((g) => `GPU ${g.index}: ${round2(this.freeGb(g))} GB free`).join(', ');
      throw new GpuAllocationError(
        'insufficient_memory',
        `engine needs ${request.count} GPU(s) with ${round2(request.memoryGb)} GB free each, only ${fitting.length} qualify (${best})`,
      );
    }
    const gpuIds = fitting.slice(0, request.count).map((x) => x.g.index).sort((a, b) => a - b);
    const allocation: GpuAllocation = { engineId, gpuIds, memoryGbPerGpu: request.memoryGb };
    this.allocations.set(engineId, allocation);
    return { ...allocation, gpuIds: [...gpuIds] };
  }

  /**
   * Dry run: would these requests fit, in order, next to the current reservations? Nothing is reserved.
   * Each answer carries the GPUs it would get or the reason it would be refused.
   */
  wouldFit(requests: readonly (GpuRequest & { engineId: string })[]): { engineId: string; ok: boolean; gpuIds?: number[]; reason?: string }[] {
    const trial = new GPUResourceManager({ gpus: this.gpus });
    trial.lastError = this.lastError;
    for (const a of this.allocations.values()) trial.restore(a);
    return requests.map((r) => {
      try {
        return { engineId: r.engineId, ok: true, gpuIds: trial.allocate(r.engineId, r).gpuIds };
      } catch (err) {
        return { engineId: r.engineId, ok: false, reason: (err as Error).message };
      }
    });
  }

  /** Records an allocation made by an earlier run (adopted engine) without checking capacity. */
  restore(allocation: GpuAllocation): void {
    this.allocations.set(allocation.engineId, { ...allocation, gpuIds: [...allocation.gpuIds] });
  }

  /** Frees an engine's GPUs; true when it held any. */
  release(engineId: string): boolean {
    return this.allocations.delete(engineId);
  }
}
