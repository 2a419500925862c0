// The command line an engine spec runs: a user-given command with {port}/{host}/{model} filled in, or the
// kind's built-in one. Also how a command is shown (credentials redacted) and the default engine id.
import { buildCommand, formatCommand, redactCommand } from '../kinds/builders';
import { gpuRequired } from '../kinds/gpu-rule';
import type { CommandBuildOptions, CommandLine, EngineCategory } from '../kinds/types';
import type { EngineStartSpec } from './types';

function substitute(args: readonly string[], values: Record<string, string>): string[] {
  return args.map((a) => a.replace(/\{(port|host|model)\}/g, (_, k: string) => values[k]));
}

/** The model's last path segment, made safe for an engine id. */
export function slug(s: string): string {
  return (s.split('/').pop() ?? s).toLowerCase().replace(/[^a-z0-9.]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'engine';
}

/** The OpenAI-compatible base URL of an engine (IPv6 hosts bracketed). */
export function engineBaseUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/v1`;
}

/** What status, events and logs show of a command: credentials redacted. */
export const shown = (cmd: CommandLine): string[] => redactCommand([cmd.command, ...cmd.args]);
export const formatShown = (cmd: CommandLine): string => {
  const [command, ...args] = shown(cmd);
  return formatCommand({ command, args });
};

export function commandFor(
  spec: EngineStartSpec,
  category: EngineCategory,
  host: string,
  port: number,
  gpuIds: number[],
  commandOptions?: CommandBuildOptions,
): CommandLine {
  const useGpu = gpuRequired(spec.kind, category, spec.useGpu);
  if (spec.command) {
    const values = { port: String(port), host, model: spec.model };
    const gpuEnv: Record<string, string> = useGpu ? (gpuIds.length ? { CUDA_VISIBLE_DEVICES: gpuIds.join(',') } : {}) : { CUDA_VISIBLE_DEVICES: '' };
    return { command: spec.command.command, args: substitute(spec.command.args, values), env: { ...gpuEnv, ...(spec.env ?? {}), ...(spec.command.env ?? {}) } };
  }
  return buildCommand(
    {
      kind: spec.kind,
      model: spec.model,
      port,
      host,
      category,
      tensorParallel: spec.tensorParallel,
      pipelineParallel: spec.pipelineParallel,
      gpuMemoryUtilization: spec.gpuMemoryUtilization,
      useGpu: spec.useGpu,
      gpuIds,
      maxConcurrentRequests: spec.maxConcurrentRequests,
      dimensions: spec.dimensions,
      role: spec.role,
      timeScale: spec.timeScale,
      engineId: spec.kind === 'sim-llm' ? spec.id : undefined,
      extraArgs: spec.extraArgs,
      env: spec.env,
    },
    commandOptions,
  );
}
