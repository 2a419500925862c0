import { GpuAllocationError, GPUResourceManager } from '../../src';
import {
  mockGpusFromEnv,
  NVIDIA_SMI,
  NVIDIA_SMI_ARGS,
  parseNvidiaSmiCsv,
  queryNvidiaSmi,
  type CommandRunner,
} from '../../src/engines/gpu';

// Recorded `nvidia-smi --query-gpu=index,name,memory.total,memory.used,utilization.gpu --format=csv,noheader,nounits` outputs.
const ONE_GPU = '0, NVIDIA GeForce RTX 4090, 24564, 1187, 7\n';
const EIGHT_GPUS = [
  '0, NVIDIA A100-SXM4-80GB, 81920, 70213, 98',
  '1, NVIDIA A100-SXM4-80GB, 81920, 70213, 97',
  '2, NVIDIA A100-SXM4-80GB, 81920, 4, 0',
  '3, NVIDIA A100-SXM4-80GB, 81920, 4, 0',
  '4, NVIDIA A100-SXM4-80GB, 81920, 4, 0',
  '5, NVIDIA A100-SXM4-80GB, 81920, 4, 0',
  '6, NVIDIA A100-SXM4-80GB, 81920, 40960, 55',
  '7, NVIDIA A100-SXM4-80GB, 81920, 4, 0',
  '',
].join('\n');
const NO_DEVICES = 'No devices were found\n';
const DRIVER_FAILED =
  "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n\n";
const WITH_GARBAGE = [
  'WARNING: infoROM is corrupted at gpu 0000:65:00.0',
  '0, NVIDIA A10G, 23028, 0, [N/A]',
  'index, name, memory.total [MiB], memory.used [MiB], utilization.gpu [%]',
  '1, NVIDIA A10G, 23028, abc, 3',
  '2, NVIDIA A10G, 23028, 512, 12',
].join('\r\n');

const runnerFor =
  (stdout: string, exitCode = 0, stderr = ''): CommandRunner =>
  async (command, args) => {
    expect(command).toBe(NVIDIA_SMI);
    expect(args).toEqual(NVIDIA_SMI_ARGS);
    return { stdout, stderr, exitCode };
  };

const enoent: CommandRunner = async () => {
  throw Object.assign(new Error('spawn nvidia-smi ENOENT'), { code: 'ENOENT' });
};

describe('nvidia-smi parsing (recorded outputs)', () => {
  it('one GPU', () => {
    expect(parseNvidiaSmiCsv(ONE_GPU)).toEqual({
      gpus: [{ index: 0, name: 'NVIDIA GeForce RTX 4090', memoryTotalMb: 24564, memoryUsedMb: 1187, utilizationPct: 7 }],
      warnings: [],
    });
  });

  it('eight GPUs', () => {
    const { gpus, warnings } = parseNvidiaSmiCsv(EIGHT_GPUS);
    expect(warnings).toEqual([]);
    expect(gpus.map((g) => g.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(gpus[6]).toMatchObject({ memoryUsedMb: 40960, utilizationPct: 55, name: 'NVIDIA A100-SXM4-80GB' });
  });

  it('garbage lines are reported, [N/A] fields read as 0, good rows kept', () => {
    const { gpus, warnings } = parseNvidiaSmiCsv(WITH_GARBAGE);
    expect(gpus.map((g) => g.index)).toEqual([0, 2]);
    expect(gpus[0].utilizationPct).toBe(0);
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/infoROM/);
  });

  it('"No devices were found" is no GPUs with the reason', async () => {
    const q = await queryNvidiaSmi(runnerFor(NO_DEVICES, 6));
    expect(q.gpus).toEqual([]);
    expect(q.error).toMatch(/no devices were found/i);
  });

  it('a missing command is no GPUs, not an exception', async () => {
    const q = await queryNvidiaSmi(enoent);
    expect(q.gpus).toEqual([]);
    expect(q.error).toMatch(/not found/);
  });

  it('a failing driver is reported with its first line', async () => {
    const q = await queryNvidiaSmi(runnerFor(DRIVER_FAILED, 9));
    expect(q.error).toMatch(/exited with 9: NVIDIA-SMI has failed/);
  });

  it('output with only garbage is an error', async () => {
    const q = await queryNvidiaSmi(runnerFor('Segmentation fault\n'));
    expect(q.gpus).toEqual([]);
    expect(q.error).toMatch(/no GPU rows/);
  });
});

describe('mock mode', () => {
  it('SAGE_GPU_MOCK_COUNT / SAGE_GPU_MOCK_MEMORY_GB', async () => {
    const m = await GPUResourceManager.create({ env: { SAGE_GPU_MOCK_COUNT: '2', SAGE_GPU_MOCK_MEMORY_GB: '16' }, runner: enoent });
    expect(m.source).toBe('mock');
    expect(m.status().map((g) => [g.index, g.memoryTotalGb, g.freeGb])).toEqual([
      [0, 16, 16],
      [1, 16, 16],
    ]);
  });

  it('default mock memory is 24 GB; invalid values are errors', () => {
    expect(mockGpusFromEnv({ SAGE_GPU_MOCK_COUNT: '1' })?.[0].memoryTotalMb).toBe(24 * 1024);
    expect(mockGpusFromEnv({})).toBeUndefined();
    expect(() => mockGpusFromEnv({ SAGE_GPU_MOCK_COUNT: 'two' })).toThrow(/SAGE_GPU_MOCK_COUNT/);
    expect(() => mockGpusFromEnv({ SAGE_GPU_MOCK_COUNT: '1', SAGE_GPU_MOCK_MEMORY_GB: '-1' })).toThrow(/SAGE_GPU_MOCK_MEMORY_GB/);
  });
});

describe('allocation', () => {
  it('reads real GPUs through the runner and places engines where memory is free', async () => {
    const m = await GPUResourceManager.create({ env: {}, runner: runnerFor(EIGHT_GPUS) });
    expect(m.source).toBe('nvidia-smi');
    // GPUs 0, 1 and 6 are busy; a 2-GPU engine needing 60 GB each goes on two idle ones.
    const a = m.allocate('qwen-72b', { count: 2, memoryGb: 60 });
    expect(a.gpuIds).toHaveLength(2);
    expect(a.gpuIds.every((i) => ![0, 1, 6].includes(i))).toBe(true);
    expect(m.status().find((g) => g.index === a.gpuIds[0])?.engines).toEqual(['qwen-72b']);
    const snap = m.snapshot();
    expect(snap.source).toBe('nvidia-smi');
    expect(snap.allocations).toEqual([{ engineId: 'qwen-72b', gpuIds: a.gpuIds, memoryGbPerGpu: 60 }]);
    expect(snap.gpus.find((g) => g.index === a.gpuIds[0])).toMatchObject({ reservedGb: 60, freeGb: 20 });
  });

  it('logical reservations add up; what does not fit is a typed 409 with a reason', async () => {
    const m = await GPUResourceManager.create({ env: { SAGE_GPU_MOCK_COUNT: '2', SAGE_GPU_MOCK_MEMORY_GB: '24' } });
    const a = m.allocate('e1', { count: 1, memoryGb: 16 });
    const b = m.allocate('e2', { count: 1, memoryGb: 16 });
    expect(new Set([...a.gpuIds, ...b.gpuIds])).toEqual(new Set([0, 1])); // spread over both
    let err: unknown;
    try {
      m.allocate('e3', { count: 1, memoryGb: 16 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GpuAllocationError);
    expect(err).toMatchObject({ status: 409, reason: 'insufficient_memory' });
    expect((err as Error).message).toMatch(/8 GB free/);
    // smaller ones still fit next to the reservations
    expect(m.allocate('e4', { count: 1, memoryGb: 8 }).gpuIds).toHaveLength(1);
    expect(m.release('e1')).toBe(true);
    expect(m.allocate('e3', { count: 1, memoryGb: 16 }).gpuIds).toEqual(a.gpuIds);
  });

  it('reasons: no GPUs, too few GPUs, already allocated', async () => {
    const none = await GPUResourceManager.create({ env: {}, runner: enoent });
    expect(() => none.allocate('x', { count: 1, memoryGb: 1 })).toThrow(expect.objectContaining({ reason: 'no_gpus' }));
    expect(none.error).toMatch(/not found/);
    expect(none.snapshot()).toEqual({ source: 'none', error: 'nvidia-smi not found (no NVIDIA driver installed)', warnings: [], gpus: [], allocations: [] });
    const two = await GPUResourceManager.create({ gpus: parseNvidiaSmiCsv(ONE_GPU + '1, NVIDIA GeForce RTX 4090, 24564, 0, 0').gpus });
    expect(() => two.allocate('x', { count: 4, memoryGb: 1 })).toThrow(expect.objectContaining({ reason: 'insufficient_gpus' }));
    two.allocate('x', { count: 1, memoryGb: 1 });
    expect(() => two.allocate('x', { count: 1, memoryGb: 1 })).toThrow(expect.objectContaining({ reason: 'already_allocated' }));
  });

  it('measured usage counts: a GPU another process filled is not offered', async () => {
    const m = await GPUResourceManager.create({ env: {}, runner: runnerFor('0, NVIDIA L4, 23034, 22000, 90\n1, NVIDIA L4, 23034, 300, 0\n') });
    expect(m.allocate('e', { count: 1, memoryGb: 10 }).gpuIds).toEqual([1]);
  });
});
