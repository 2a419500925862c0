// @ts-check
'use strict';
// API report, in the spirit of api-extractor: the runtime names each entry point of a built package exports (what
// `Object.keys(require('@sage/x'))` gives a consumer) must equal the list in the package's api/exports.txt. Any
// addition or removal fails until that list is updated on purpose, in the same change as src/index.ts.
// One implementation for every package: their tests/api-report.test.ts and `sage-dev api-report` both call it.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const REPORT_FILE = path.join('api', 'exports.txt');

/**
 * @typedef {object} ApiReportResult
 * @property {string} packageName  the package.json "name"
 * @property {string} file         the report file (absolute)
 * @property {string[]} entries    every entry point the package declares: "@sage/x", "@sage/x/http", ...
 * @property {boolean} updated     the report was rewritten from the built package
 * @property {string[]} problems   one readable message per mismatch; empty when the report matches
 */

/**
 * @param {string} packageDir
 * @returns {{ name: string, entries: string[] }}
 */
function readManifest(packageDir) {
  const file = path.join(packageDir, 'package.json');
  /** @type {{ name?: unknown, exports?: unknown }} */
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (typeof manifest.name !== 'string' || !manifest.exports || typeof manifest.exports !== 'object') {
    throw new Error(`${file} needs a "name" and an "exports" map for an API report`);
  }
  const name = manifest.name;
  const entries = Object.keys(manifest.exports)
    .filter((k) => k !== './package.json')
    .map((k) => (k === '.' ? name : `${name}/${k.slice(2)}`));
  return { name, entries };
}

/**
 * A plain node process resolves the entry as a consumer does (the "default" condition: dist/), not as jest does.
 * @param {string} packageDir
 * @param {string} entry
 * @returns {string[]}
 */
function runtimeExports(packageDir, entry) {
  const script = `process.stdout.write(JSON.stringify(Object.keys(require(${JSON.stringify(entry)}))))`;
  try {
    const out = execFileSync(process.execPath, ['-e', script], { cwd: packageDir, encoding: 'utf8', stdio: 'pipe' });
    return /** @type {string[]} */ (JSON.parse(out)).sort();
  } catch (err) {
    const stderr = /** @type {{ stderr?: string }} */ (err).stderr;
    throw new Error(`cannot load the built ${entry} (run npm run build first): ${stderr || String(err)}`);
  }
}

/**
 * @param {string} file
 * @returns {Map<string, string[]>} entry -> listed names
 */
function readReport(file) {
  /** @type {Map<string, string[]>} */
  const sections = new Map();
  if (!fs.existsSync(file)) return sections;
  /** @type {string[] | undefined} */
  let current;
  for (const line of fs.readFileSync(file, 'utf8').split('\n').map((l) => l.trim())) {
    if (!line || line.startsWith('#')) continue;
    const entry = /^\[(.+)\]$/.exec(line)?.[1];
    if (entry) sections.set(entry, (current = []));
    else current?.push(line);
  }
  return sections;
}

/**
 * @param {string} name
 * @param {Map<string, string[]>} actual
 * @returns {string}
 */
function formatReport(name, actual) {
  const header = [
    `# Runtime exports of ${name}, per entry point, sorted. tests/api-report.test.ts compares them with the built`,
    '# package. Change this list only on purpose, with src/index.ts: UPDATE_API_REPORT=1 npx jest -c jest.config.cjs api-report',
  ];
  const body = [...actual].map(([entry, names]) => [`[${entry}]`, ...names].join('\n'));
  return [...header, '', body.join('\n\n'), ''].join('\n');
}

/**
 * Compares the built package in `packageDir` with its api/exports.txt; with `update`, rewrites the report first.
 * @param {string} packageDir
 * @param {{ update?: boolean, workspaceRoot?: string }} [options]
 * @returns {ApiReportResult}
 */
function checkApiReport(packageDir, options = {}) {
  const dir = path.resolve(packageDir);
  const { name, entries } = readManifest(dir);
  const file = path.join(dir, REPORT_FILE);
  const actual = new Map(entries.map((e) => [e, runtimeExports(dir, e)]));
  if (options.update) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, formatReport(name, actual));
  }
  const documented = readReport(file);
  const shown = path.relative(options.workspaceRoot ?? process.cwd(), file) || file;
  const where = path.relative(options.workspaceRoot ?? path.resolve(dir, '..', '..'), dir) || '.';
  /** @type {string[]} */
  const problems = [];
  for (const [entry, names] of actual) {
    const listed = documented.get(entry) ?? [];
    const added = names.filter((n) => !listed.includes(n));
    const removed = listed.filter((n) => !names.includes(n));
    if (!added.length && !removed.length && documented.has(entry)) continue;
    problems.push(
      [
        `${entry} no longer matches ${shown}:`,
        documented.has(entry) ? '' : '  the report has no section for this entry point',
        added.length ? `  exported but not listed: ${added.join(', ')}` : '',
        removed.length ? `  listed but no longer exported: ${removed.join(', ')}` : '',
        'A public name is a promise to every consumer. If this change is deliberate, rebuild (npm run build), run',
        `UPDATE_API_REPORT=1 npx jest -c jest.config.cjs api-report in ${where} (or: npx sage-dev api-report update ${where}),`,
        'and commit the updated list with src/index.ts; if it is not, keep the name out of (or back in) src/index.ts.',
      ]
        .filter(Boolean)
        .join('\n'),
    );
  }
  const undeclared = [...documented.keys()].filter((e) => !actual.has(e));
  if (undeclared.length) {
    problems.push(`${shown} lists entry points ${name} does not declare in package.json "exports": ${undeclared.join(', ')}`);
  }
  return { packageName: name, file, entries, updated: Boolean(options.update), problems };
}

module.exports = { checkApiReport, REPORT_FILE };
