// Parsing of `nvidia-smi --query-gpu=index,name,memory.total,memory.used,utilization.gpu
// --format=csv,noheader,nounits` (F-212). Lines that do not parse are reported, never guessed at.
import { execFile } from 'node:child_process';
import type { CommandResult, CommandRunner, GpuInfo } from './types';

export const NVIDIA_SMI = 'nvidia-smi';
export const NVIDIA_SMI_ARGS = [
  '--query-gpu=index,name,memory.total,memory.used,utilization.gpu',
  '--format=csv,noheader,nounits',
] as const;

export interface NvidiaSmiParse {
  gpus: GpuInfo[];
  /** Lines that were not GPU rows, with the reason. */
  warnings: string[];
}

/** nvidia-smi prints "[N/A]" or "[Not Supported]" for fields a device does not report. */
function numberField(raw: string): number | undefined {
  const t = raw.trim();
  if (/^\[?(N\/A|Not Supported)\]?$/i.test(t)) return 0;
  if (!/^\d+(\.\d+)?$/.test(t)) return undefined;
  return Number(t);
}

export function parseNvidiaSmiCsv(output: string): NvidiaSmiParse {
  const gpus: GpuInfo[] = [];
  const warnings: string[] = [];
  for (const rawLine of output.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (!line) continue;
    // GPU names do not contain commas in practice; split from both ends anyway so one would survive.
    const parts = line.split(',').map((p) => p.trim());
    if (parts.length < 5) {
      warnings.push(`not a GPU row: ${line}`);
      continue;
    }
    const [indexRaw, ...rest] = parts;
    const util = rest.pop() as string;
    const used = rest.pop() as string;
    const total = rest.pop() as string;
    const name = rest.join(', ');
    const index = /^\d+$/.test(indexRaw) ? Number(indexRaw) : undefined;
    const memoryTotalMb = numberField(total);
    const memoryUsedMb = numberField(used);
    const utilizationPct = numberField(util);
    if (index === undefined || memoryTotalMb === undefined || memoryUsedMb === undefined || utilizationPct === undefined || !name) {
      warnings.push(`not a GPU row: ${line}`);
      continue;
    }
    gpus.push({ index, name, memoryTotalMb, memoryUsedMb, utilizationPct });
  }
  return { gpus, warnings };
}

export interface NvidiaSmiQuery {
  gpus: GpuInfo[];
  /** Why no GPU list could be read (command missing, failing, no devices); undefined on success. */
  error?: string;
  warnings: string[];
}

/** Runs nvidia-smi through `runner` and never throws: a machine without GPUs is a normal case. */
export async function queryNvidiaSmi(runner: CommandRunner, timeoutMs = 5000): Promise<NvidiaSmiQuery> {
  let result: CommandResult;
  try {
    result = await runner(NVIDIA_SMI, NVIDIA_SMI_ARGS, { timeoutMs });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      gpus: [],
      warnings: [],
      error: code === 'ENOENT' ? 'nvidia-smi not found (no NVIDIA driver installed)' : `nvidia-smi could not run: ${(err as Error).message}`,
    };
  }
  const text = `${result.stdout}\n${result.stderr}`;
  if (/no devices were found/i.test(text)) return { gpus: [], warnings: [], error: 'nvidia-smi: no devices were found' };
  if (result.exitCode !== 0) {
    const detail = (result.stderr || result.stdout).trim().split('\n')[0] ?? '';
    return { gpus: [], warnings: [], error: `nvidia-smi exited with ${result.exitCode ?? 'a signal'}${detail ? `: ${detail}` : ''}` };
  }
  const parsed = parseNvidiaSmiCsv(result.stdout);
  return parsed.gpus.length > 0
    ? parsed
    : { ...parsed, error: `nvidia-smi printed no GPU rows${parsed.warnings.length ? ` (${parsed.warnings[0]})` : ''}` };
}

/** The real runner: execFile with a timeout, no shell. */
export const execCommandRunner: CommandRunner = (command, args, { timeoutMs }) =>
  new Promise((resolve, reject) => {
    execFile(command, [...args], { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return reject(err);
      const exitCode = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ stdout: stdout ?? '', stderr: stderr ?? '', exitCode });
    });
  });
