// Process entry of the built-in engines (bin: sage-engine). Kept apart from cli.ts so that importing the
// package never starts a server.
import { runSimEngineCli } from './cli';

runSimEngineCli().catch((err: unknown) => {
  process.stderr.write(`sage-engine: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
