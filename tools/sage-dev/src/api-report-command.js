// @ts-check
'use strict';
// `sage-dev api-report check|update [dir...]`: the API report of one or every package, outside jest.
const fs = require('node:fs');
const path = require('node:path');
const { checkApiReport, REPORT_FILE } = require('./api-report');

/**
 * @param {string} root
 * @returns {string[]} every package folder under packages/ that keeps an API report
 */
function packagesWithReport(root) {
  const base = path.join(root, 'packages');
  if (!fs.existsSync(base)) return [];
  return fs
    .readdirSync(base, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(base, d.name, REPORT_FILE)))
    .map((d) => path.join(base, d.name))
    .sort();
}

/**
 * @param {{ root: string, dirs: string[], update: boolean, io: { stdout: (s: string) => void, stderr: (s: string) => void } }} opts
 * @returns {number} exit code: 0 every report matches (or was rewritten), 1 a mismatch, 2 a package that cannot be read
 */
function runApiReport({ root, dirs, update, io }) {
  const targets = dirs.length ? dirs : packagesWithReport(root);
  if (!targets.length) {
    io.stderr(`sage-dev: no package with ${REPORT_FILE} under ${path.join(root, 'packages')}\n`);
    return 2;
  }
  let code = 0;
  for (const dir of targets) {
    const shown = path.relative(root, dir) || '.';
    try {
      const result = checkApiReport(dir, { update, workspaceRoot: root });
      if (result.problems.length) {
        code = Math.max(code, 1);
        io.stdout(`✗ ${result.packageName} (${shown})\n${result.problems.join('\n\n')}\n`);
      } else {
        io.stdout(`✓ ${result.packageName} (${shown}): ${update ? 'rewrote' : 'matches'} ${path.relative(root, result.file)}\n`);
      }
    } catch (e) {
      code = 2;
      io.stderr(`sage-dev: ${shown}: ${/** @type {Error} */ (e).message.trim()}\n`);
    }
  }
  return code;
}

module.exports = { runApiReport };
