// @ts-check
'use strict';
// Markdown report, e.g. for a pull-request comment or a CI job summary.
const { VIOLATION_TYPES } = require('../violations');

/** @param {string} s */
const cell = (s) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** @param {import('../check').Report} r @returns {string} */
function renderMarkdown(r) {
  const scope =
    r.scope.mode === 'all' ? 'all files' : `${r.scope.mode} (${r.scope.ref}), ${r.scope.changedFiles?.length ?? 0} changed file(s)`;
  const out = [
    '# Architecture check',
    '',
    `**${r.ok ? 'PASS' : 'FAIL'}**: ${r.summary.errors} error(s), ${r.summary.warnings} warning(s). Scope: ${scope}${r.strict ? ', strict' : ''}.`,
    '',
    '| Check | Count |',
    '| --- | ---: |',
    `| Files checked | ${r.summary.filesChecked} |`,
    `| Packages checked | ${r.summary.packagesChecked} |`,
    `| Tools checked | ${r.summary.toolsChecked} |`,
    ...VIOLATION_TYPES.map((t) => `| ${t.label} | ${r.summary.byType[t.type]} |`),
    '',
  ];
  if (r.violations.length) {
    out.push('## Violations', '', '| Severity | Type | Location | Rule | Problem | Suggestion |', '| --- | --- | --- | --- | --- | --- |');
    for (const v of r.violations) {
      out.push(`| ${v.severity} | ${v.type} | \`${v.file}:${v.line}\` | \`${cell(v.rule)}\` | ${cell(v.message)} | ${cell(v.suggestion)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

module.exports = { renderMarkdown };
