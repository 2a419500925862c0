// @ts-check
'use strict';
// Command line: `sage-dev architecture check [flags]` and `sage-dev api-report check|update [dir...]`.
// Exit 0 pass, 1 violations, 2 usage or setup error.
const path = require('node:path');
const { parseArgs } = require('node:util');
const { findWorkspaceRoot } = require('./workspace');
const { runCheck } = require('./check');
const { reporters } = require('./reporters');
const { GitError } = require('./git-diff');
const { runApiReport } = require('./api-report-command');

const USAGE = `Usage: sage-dev architecture check [options]
       sage-dev api-report check|update [package-dir...] [--root <dir>]

Checks every package source file against the layer map (tools/sage-dev/layers.json)
with dependency-cruiser, plus package-level checks, and prints a report.

Options:
  --strict            warnings fail the check too
  --changed-only      report only files changed vs HEAD (staged, unstaged, untracked)
  --diff <ref>        report only files changed vs <ref> (e.g. origin/main)
  --format <fmt>      text (default) | json | markdown
  --root <dir>        workspace root (default: nearest directory above the cwd with nx.json)
  --layers <file>     layer map (default: <root>/tools/sage-dev/layers.json, else the bundled one)
  -h, --help          show this help

api-report compares the runtime exports of each built package (default: every package
under packages/ with an api/exports.txt) with that file; update rewrites it first.

Exit codes: 0 pass, 1 violations (errors, or warnings with --strict), 2 usage or setup error.
`;

class UsageError extends Error {}

/**
 * @param {string[]} argv
 * @param {{ stdout: (s: string) => void, stderr: (s: string) => void, cwd: string }} io
 * @returns {Promise<number>} exit code
 */
async function main(argv, io) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        strict: { type: 'boolean', default: false },
        'changed-only': { type: 'boolean', default: false },
        diff: { type: 'string' },
        format: { type: 'string', default: 'text' },
        root: { type: 'string' },
        layers: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    io.stderr(`sage-dev: ${/** @type {Error} */ (e).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  try {
    if (positionals[0] === 'api-report') {
      const mode = positionals[1];
      if (mode !== 'check' && mode !== 'update') throw new UsageError(`api-report needs check or update, not ${mode ?? 'nothing'}`);
      const root = values.root ? path.resolve(io.cwd, values.root) : findWorkspaceRoot(io.cwd);
      if (!root) throw new UsageError(`no workspace root (nx.json) found above ${io.cwd}; pass --root`);
      const dirs = positionals.slice(2).map((d) => path.resolve(io.cwd, d));
      return runApiReport({ root, dirs, update: mode === 'update', io });
    }
    if (positionals[0] !== 'architecture' || positionals[1] !== 'check' || positionals.length > 2) {
      throw new UsageError(positionals.length ? `unknown command: ${positionals.join(' ')}` : 'missing command');
    }
    const format = /** @type {keyof typeof reporters} */ (values.format);
    if (!Object.hasOwn(reporters, format)) throw new UsageError(`unknown --format "${values.format}" (text, json, markdown)`);
    if (values['changed-only'] && values.diff !== undefined) throw new UsageError('use either --changed-only or --diff, not both');
    if (values.diff === '') throw new UsageError('--diff needs a git ref');
    const root = values.root ? path.resolve(io.cwd, values.root) : findWorkspaceRoot(io.cwd);
    if (!root) throw new UsageError(`no workspace root (nx.json) found above ${io.cwd}; pass --root`);

    const report = await runCheck({
      root,
      strict: values.strict,
      scope: values.diff !== undefined ? 'diff' : values['changed-only'] ? 'changed-only' : 'all',
      ref: values.diff,
      layersFile: values.layers,
    });
    io.stdout(reporters[format](report));
    return report.exitCode;
  } catch (e) {
    if (e instanceof UsageError || e instanceof GitError) {
      io.stderr(`sage-dev: ${e.message}\n${e instanceof UsageError ? `\n${USAGE}` : ''}`);
      return 2;
    }
    io.stderr(`sage-dev: ${/** @type {Error} */ (e).stack ?? String(e)}\n`);
    return 2;
  }
}

module.exports = { main, USAGE };
