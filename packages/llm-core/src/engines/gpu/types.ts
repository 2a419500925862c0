/** One GPU as nvidia-smi (or the mock) reports it. Memory in MiB, as nvidia-smi prints it. */
export interface GpuInfo {
  index: number;
  name: string;
  memoryTotalMb: number;
  memoryUsedMb: number;
  /** 0..100 */
  utilizationPct: number;
}

/** Where the GPU list came from: real nvidia-smi, the mock, or nothing usable. */
export type GpuSource = 'nvidia-smi' | 'mock' | 'none';

export interface CommandResult {
  stdout: string;
  stderr: string;
  /** null when the process was killed (e.g. by the timeout). */
  exitCode: number | null;
}

/** Runs a command to completion; rejects when it cannot be started (e.g. ENOENT). Injectable for tests. */
export type CommandRunner = (command: string, args: readonly string[], options: { timeoutMs: number }) => Promise<CommandResult>;
