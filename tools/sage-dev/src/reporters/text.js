// @ts-check
'use strict';
// Plain-text report for terminals and CI logs: counts first, then each violation.
const path = require('node:path');
const { VIOLATION_TYPES } = require('../violations');

/** @typedef {import('../check').Report} Report */

/** @param {Report} r */
function scopeLine(r) {
  if (r.scope.mode === 'all') return 'all files';
  const n = r.scope.changedFiles?.length ?? 0;
  return `${r.scope.mode === 'diff' ? `changed vs ${r.scope.ref}` : 'changed vs HEAD (incl. untracked)'}: ${n} file(s)`;
}

/** @param {Report} r @returns {string} */
function renderText(r) {
  const width = Math.max(...VIOLATION_TYPES.map((t) => t.label.length), 'Files checked'.length) + 2;
  const row = (/** @type {string} */ label, /** @type {number | string} */ value) => `  ${label.padEnd(width)}${value}`;
  const out = [
    `sage-dev architecture check: ${r.root}`,
    `  layer map: ${path.relative(r.root, r.layerMap) || r.layerMap}   scope: ${scopeLine(r)}${r.strict ? '   strict' : ''}`,
    '',
    row('Files checked', r.summary.filesChecked),
    row('Packages checked', r.summary.packagesChecked),
    row('Tools checked', r.summary.toolsChecked),
    ...VIOLATION_TYPES.map((t) => row(t.label, r.summary.byType[t.type])),
    '',
  ];
  for (const v of r.violations) {
    out.push(`${v.severity === 'error' ? 'ERROR' : 'WARN '} ${v.type}  ${v.file}:${v.line}  [${v.rule}]`);
    out.push(`      ${v.message}`);
    out.push(`      suggestion: ${v.suggestion}`);
  }
  if (r.violations.length) out.push('');
  const verdict = r.ok ? 'PASS' : 'FAIL';
  const strictNote = r.strict ? '' : r.summary.warnings ? ' (warnings fail only with --strict)' : '';
  out.push(`${verdict}: ${r.summary.errors} error(s), ${r.summary.warnings} warning(s)${strictNote}`);
  return out.join('\n') + '\n';
}

module.exports = { renderText };
