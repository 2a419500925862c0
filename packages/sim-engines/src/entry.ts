// Where the built-in engines' entry point lives, for whoever spawns them in-process (the bin is sage-engine).
import path from 'node:path';

/** Absolute path of the compiled `sage-engine` entry (dist/main.js); src and dist sit at the same depth. */
export const SIM_ENGINE_MAIN = path.resolve(__dirname, '..', 'dist', 'main.js');
