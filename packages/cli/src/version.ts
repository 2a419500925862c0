import * as fs from 'node:fs';
import * as path from 'node:path';

/** The package version (from package.json next to src/ and dist/). */
export function cliVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/** The compiled bin (dist/bin/sage.js), which a background start runs as a detached process. */
export function sageEntry(): string {
  return path.join(__dirname, 'bin', 'sage.js');
}
