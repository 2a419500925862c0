// Command builders, one per engine kind: pure functions from an EngineSpec to the process to run.
// GPU placement is decided by the caller (GPU manager) and only expressed here.
import { gpuRequired, naturalCategory, supportedCategories } from './gpu-rule';
import { simEngineBinPath } from './sim-engine-bin';
import type { CommandBuildOptions, CommandLine, EngineCategory, EngineKind, EngineSpec } from './types';
import { SageError } from '@sage/common';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_GPU_MEMORY_UTILIZATION = 0.9;
/** llama.cpp: offload every layer (any number above the layer count means "all"). */
export const LLAMA_ALL_LAYERS = '999';

export class EngineSpecError extends SageError {
  constructor(message: string) {
    super(message, { status: 400, code: 'invalid_engine_spec' });
  }
}

/** Where the built-in engines live: the `sage-engine` bin of @sage/sim-engines (see sim-engine-bin.ts). */
export function defaultSimMainPath(): string {
  return simEngineBinPath();
}

interface Resolved {
  spec: EngineSpec;
  category: EngineCategory;
  gpu: boolean;
  host: string;
}

function resolve(spec: EngineSpec): Resolved {
  const category = spec.category ?? naturalCategory(spec.kind);
  if (!supportedCategories(spec.kind).includes(category)) {
    throw new EngineSpecError(`engine ${spec.kind} cannot serve ${category} models`);
  }
  if (!spec.model.trim()) throw new EngineSpecError('model must not be empty');
  if (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 65535) {
    throw new EngineSpecError(`port must be an integer in 1..65535, got ${spec.port}`);
  }
  for (const [name, value] of [
    ['tensorParallel', spec.tensorParallel],
    ['pipelineParallel', spec.pipelineParallel],
    ['maxConcurrentRequests', spec.maxConcurrentRequests],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
      throw new EngineSpecError(`${name} must be a positive integer, got ${value}`);
    }
  }
  const util = spec.gpuMemoryUtilization;
  if (util !== undefined && !(util > 0 && util <= 1)) {
    throw new EngineSpecError(`gpuMemoryUtilization must be in (0, 1], got ${util}`);
  }
  return { spec, category, gpu: gpuRequired(spec.kind, category, spec.useGpu), host: spec.host ?? DEFAULT_HOST };
}

/**
 * CUDA_VISIBLE_DEVICES for every kind: the granted GPUs, or '' when the engine must not use a GPU, so that a
 * CUDA build cannot quietly grab device 0. With a GPU but no explicit grant the variable is left alone.
 */
function gpuEnv(r: Resolved): Record<string, string> {
  if (!r.gpu) return { CUDA_VISIBLE_DEVICES: '' };
  if (r.spec.gpuIds && r.spec.gpuIds.length > 0) return { CUDA_VISIBLE_DEVICES: r.spec.gpuIds.join(',') };
  return {};
}

function finish(r: Resolved, command: string, args: string[]): CommandLine {
  return {
    command,
    args: [...args, ...(r.spec.extraArgs ?? [])],
    env: { ...gpuEnv(r), ...(r.spec.env ?? {}) },
  };
}

/**
 * vLLM: `vllm serve MODEL --host --port --tensor-parallel-size --pipeline-parallel-size
 * --gpu-memory-utilization [--max-num-seqs] [--runner pooling]`. Embedding models use `--runner pooling`
 * (vLLM ≥ 0.10; it replaced `--task embed`). Without a GPU, vLLM needs its CPU build; we then hide the GPUs
 * and leave out --gpu-memory-utilization, which the CPU backend does not use.
 */
function buildVllm(r: Resolved): CommandLine {
  const s = r.spec;
  const args = [
    'serve',
    s.model,
    '--host',
    r.host,
    '--port',
    String(s.port),
    '--tensor-parallel-size',
    String(s.tensorParallel ?? 1),
    '--pipeline-parallel-size',
    String(s.pipelineParallel ?? 1),
  ];
  if (r.gpu) args.push('--gpu-memory-utilization', String(s.gpuMemoryUtilization ?? DEFAULT_GPU_MEMORY_UTILIZATION));
  if (s.maxConcurrentRequests !== undefined) args.push('--max-num-seqs', String(s.maxConcurrentRequests));
  if (r.category === 'embedding') args.push('--runner', 'pooling');
  return finish(r, 'vllm', args);
}

/**
 * Hugging Face text-embeddings-inference. TEI picks CPU or CUDA at build time (different binaries / images)
 * and has no device flag: with a GPU its CUDA build sees the granted devices through CUDA_VISIBLE_DEVICES,
 * without one the variable is empty, so a CUDA build fails loudly instead of taking a GPU it was not given.
 */
function buildTei(r: Resolved): CommandLine {
  const s = r.spec;
  const args = ['--model-id', s.model, '--hostname', r.host, '--port', String(s.port)];
  if (s.maxConcurrentRequests !== undefined) args.push('--max-concurrent-requests', String(s.maxConcurrentRequests));
  return finish(r, 'text-embeddings-router', args);
}

/** llama.cpp's server: `-ngl 999` offloads all layers to the GPU(s), `-ngl 0` keeps it on the CPU. */
function buildLlamaCpp(r: Resolved): CommandLine {
  const s = r.spec;
  const args = ['-m', s.model, '--host', r.host, '--port', String(s.port), '-ngl', r.gpu ? LLAMA_ALL_LAYERS : '0'];
  if (r.category === 'embedding') args.push('--embedding');
  if (s.maxConcurrentRequests !== undefined) args.push('--parallel', String(s.maxConcurrentRequests));
  return finish(r, 'llama-server', args);
}

/** The built-in simulators (F-215) run as `node <sage-engine bin of @sage/sim-engines> <kind> --port --host --model ...`. */
function buildSim(r: Resolved, options: CommandBuildOptions): CommandLine {
  const s = r.spec;
  const args = [options.simMainPath ?? defaultSimMainPath(), s.kind, '--port', String(s.port), '--host', r.host, '--model', s.model];
  if (s.kind === 'sim-llm') {
    if (s.role !== undefined) args.push('--role', s.role);
    if (s.maxConcurrentRequests !== undefined) args.push('--max-num-seqs', String(s.maxConcurrentRequests));
    if (s.engineId !== undefined) args.push('--engine-id', s.engineId);
  } else {
    if (s.dimensions !== undefined) args.push('--dimensions', String(s.dimensions));
    if (s.maxConcurrentRequests !== undefined) args.push('--max-concurrent', String(s.maxConcurrentRequests));
  }
  if (s.timeScale !== undefined) args.push('--time-scale', String(s.timeScale));
  return finish(r, options.nodePath ?? process.execPath, args);
}

export function buildCommand(spec: EngineSpec, options: CommandBuildOptions = {}): CommandLine {
  const r = resolve(spec);
  const builders: Record<EngineKind, () => CommandLine> = {
    vllm: () => buildVllm(r),
    tei: () => buildTei(r),
    'llama-cpp': () => buildLlamaCpp(r),
    'sim-llm': () => buildSim(r, options),
    'sim-embedding': () => buildSim(r, options),
  };
  return builders[spec.kind]();
}

/** A shell-like rendering for plans, logs and status (quotes arguments that need it). */
export function formatCommand(cmd: Pick<CommandLine, 'command' | 'args'>): string {
  const quote = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return [cmd.command, ...cmd.args].map(quote).join(' ');
}

/** Flags whose value is a credential (vLLM --api-key, TEI --api-key, llama.cpp --api-key, HF tokens …). */
const SECRET_FLAG = /^--?(api[-_]?key|hf[-_]?token|token|auth[-_]?token|password|secret)$/i;
export const REDACTED = '***';

/**
 * The command line as it may be shown (status, events, logs): values of credential flags replaced, in both
 * `--api-key VALUE` and `--api-key=VALUE` forms. The real command stays in the owner-only state file.
 */
export function redactCommand(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    if (eq > 0 && SECRET_FLAG.test(a.slice(0, eq))) {
      out.push(`${a.slice(0, eq)}=${REDACTED}`);
    } else if (SECRET_FLAG.test(a) && i + 1 < argv.length) {
      out.push(a, REDACTED);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}
