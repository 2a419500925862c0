// @ts-check
'use strict';
// Feature ids in comments must resolve inside the repository: a citation of an id that no Markdown file defines
// (docs/features.md holds the list) and a reference to a spec section of a document the repository does not
// have leave the reader with nothing to look up.
const fs = require('node:fs');
const path = require('node:path');

/** @typedef {import('./violations').Violation} Violation */

const SKIP_DIRS = new Set(['node_modules', 'dist', 'coverage', '.git', '.nx']);
const CITING_EXT = /\.(?:ts|tsx|mts|cts|js|jsx|mjs|cjs|md)$/;
const ID = /\bF-\d{2,4}\b/g;
// A definition opens a heading or a list item, the id first and usually bold: "- **F-204 Policies.** ...".
const DEFINITION = /^\s*(?:#{1,6}\s+|[-*+]\s+)?\*{0,2}(F-\d{2,4})\b/;
const EXTERNAL_SPEC = /\bSPEC\s*§\s*\d+/g;

/**
 * Files under `dir` (relative to root) whose name matches `ext`, skipping build output, dependencies and
 * any path `skip` rejects.
 * @param {string} root @param {string} dir @param {RegExp} ext @param {(rel: string) => boolean} [skip]
 * @returns {string[]} relative paths with forward slashes, sorted
 */
function walk(root, dir, ext, skip = () => false) {
  /** @type {string[]} */
  const out = [];
  /** @param {string} rel */
  const visit = (rel) => {
    let entries;
    try {
      entries = fs.readdirSync(path.join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (skip(child)) continue;
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) visit(child);
      } else if (e.isFile() && ext.test(e.name)) out.push(child);
    }
  };
  visit(dir);
  return out.sort();
}

/**
 * Every id some Markdown file of the workspace defines, with where.
 * @param {string} root
 * @returns {Map<string, string>} id -> "file:line"
 */
function definedIds(root) {
  /** @type {Map<string, string>} */
  const ids = new Map();
  for (const file of walk(root, '', /\.md$/)) {
    const lines = fs.readFileSync(path.join(root, file), 'utf8').split(/\r?\n/);
    lines.forEach((line, i) => {
      const m = DEFINITION.exec(line);
      if (m && !ids.has(m[1])) ids.set(m[1], `${file}:${i + 1}`);
    });
  }
  return ids;
}

/**
 * @param {string} root
 * @param {string[]} dirs            folders whose files may not cite undefined ids (packagesDir, toolsDir)
 * @param {(rel: string) => boolean} [skip]   paths to leave out (the checker's fixture workspaces)
 * @returns {Violation[]}
 */
function runFeatureIdChecks(root, dirs, skip) {
  const ids = definedIds(root);
  const where = ids.size ? 'docs/features.md' : 'a Markdown file such as docs/features.md';
  /** @type {Violation[]} */
  const out = [];
  for (const file of dirs.flatMap((d) => walk(root, d, CITING_EXT, skip))) {
    const lines = fs.readFileSync(path.join(root, file), 'utf8').split(/\r?\n/);
    lines.forEach((line, i) => {
      for (const m of line.matchAll(ID)) {
        if (ids.has(m[0])) continue;
        out.push({
          severity: 'error',
          type: 'undefined-feature-id',
          file,
          line: i + 1,
          rule: 'docs/feature-id-defined',
          message: `cites ${m[0]}, which no Markdown file of the repository defines`,
          suggestion: `define ${m[0]} in ${where} (a list item "- **${m[0]} Name.** ...") or drop the id`,
        });
      }
      for (const m of line.matchAll(EXTERNAL_SPEC)) {
        out.push({
          severity: 'error',
          type: 'undefined-feature-id',
          file,
          line: i + 1,
          rule: 'docs/no-external-spec',
          message: `cites "${m[0]}" of a document that is not in the repository`,
          suggestion: 'point at the section of docs/features.md (or another file in the repository) that says it, or drop the reference',
        });
      }
    });
  }
  return out;
}

module.exports = { runFeatureIdChecks, definedIds };
