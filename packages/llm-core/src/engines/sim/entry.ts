// Where the built-in engines' entry point lives, for whoever spawns them (see engines/kinds for the command line).
import path from 'node:path';

/** Absolute path of the compiled `sage-engine` entry (dist/engines/sim/main.js); src and dist sit at the same depth. */
export const SIM_ENGINE_MAIN = path.resolve(__dirname, '..', '..', '..', 'dist', 'engines', 'sim', 'main.js');
