// Where the built-in engines' entry point lives, for whoever spawns them (the engine lifecycle manager).
import path from 'node:path';

/** Absolute path of the compiled `sage-engine` entry (dist/engines/sim/main.js); src and dist sit at the same depth. */
export const SIM_ENGINE_MAIN = path.resolve(__dirname, '..', '..', '..', 'dist', 'engines', 'sim', 'main.js');

/** Command line that starts a built-in engine: `node <main.js> <kind> --port P --model M ...extra`. */
export function simEngineCommand(kind: 'sim-llm' | 'sim-embedding', opts: { port: number; model: string; host?: string; extraArgs?: readonly string[] }): { command: string; args: string[] } {
  const args = [SIM_ENGINE_MAIN, kind, '--port', String(opts.port), '--model', opts.model];
  if (opts.host) args.push('--host', opts.host);
  return { command: process.execPath, args: [...args, ...(opts.extraArgs ?? [])] };
}
