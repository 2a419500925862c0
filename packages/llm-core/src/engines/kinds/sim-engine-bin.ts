// The built-in engines live in their own package, @sage/sim-engines, and run as child processes through its
// `sage-engine` bin. Both packages are layer L2, so llm-core never imports their code: it finds the bin file at
// run time from the package's manifest, as it would find `vllm` on the PATH. The process boundary (command line,
// the {"event":"listening"} line, OpenAI HTTP) is the whole contract between the two.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const SIM_ENGINES_PACKAGE = '@sage/sim-engines';
const BIN_NAME = 'sage-engine';

let cached: string | undefined;

/**
 * Absolute path of the `sage-engine` bin of the installed @sage/sim-engines, read from its package.json `bin`.
 * Looked up from this package first, then from the working directory (an application that installed both).
 */
export function simEngineBinPath(): string {
  if (cached) return cached;
  let manifest: string;
  try {
    // Resolves a file path, loads no code: the one deliberate run-time link to a package of the same layer.
    // eslint-disable-next-line @nx/enforce-module-boundaries -- finds the bin to spawn; imports nothing
    manifest = require.resolve('@sage/sim-engines/package.json', { paths: [__dirname, process.cwd()] });
  } catch {
    throw new Error(`the built-in engines (sim-llm, sim-embedding) need ${SIM_ENGINES_PACKAGE}: install it beside @sage/llm-core (npm install ${SIM_ENGINES_PACKAGE})`);
  }
  const { bin } = JSON.parse(readFileSync(manifest, 'utf8')) as { bin?: string | Record<string, string> };
  const rel = typeof bin === 'string' ? bin : bin?.[BIN_NAME];
  if (!rel) throw new Error(`${manifest} declares no "${BIN_NAME}" bin`);
  cached = path.resolve(path.dirname(manifest), rel);
  return cached;
}
