// The `sage` executable (bin/sage.js is a shim that loads this compiled file).
// First: V8 settings that must hold before the rest is loaded.
import '../gc-tuning';
import { run } from '../program';

run(process.argv.slice(2)).then(
  (code) => {
    // Wait for stdout to drain (a pipe writes asynchronously), then exit even if an idle socket lingers.
    process.stdout.write('', () => process.exit(code));
  },
  (err: unknown) => {
    process.stderr.write(`sage: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
