// @ts-check
'use strict';
// The catalogue of violation types: one place for their names, default severity and report labels.

/** @typedef {'error' | 'warn'} Severity */

/**
 * @typedef {'upward-import' | 'same-layer-import' | 'internal-import' | 'circular-dependency'
 *   | 'illegal-dependency' | 'module-config' | 'missing-layer' | 'undeclared-dependency' | 'unused-dependency'
 *   | 'misplaced-dependency' | 'undefined-feature-id'} ViolationType
 */

/**
 * @typedef {object} Violation
 * @property {Severity} severity
 * @property {ViolationType} type
 * @property {string} file         relative to the workspace root, forward slashes
 * @property {number} line         1-based; 1 when the culprit has no better place
 * @property {string} rule         the (generated) rule that fired
 * @property {string} message
 * @property {string} suggestion
 * @property {string[]} [related]  other files involved (cycle members); --diff keeps a violation if any of them changed
 */

/** @type {ReadonlyArray<{ type: ViolationType, label: string, severity: Severity }>} */
const VIOLATION_TYPES = [
  { type: 'upward-import', label: 'Import violations (upward)', severity: 'error' },
  { type: 'same-layer-import', label: 'Import violations (same layer)', severity: 'error' },
  { type: 'illegal-dependency', label: 'Illegal package.json dependencies', severity: 'error' },
  { type: 'module-config', label: 'Module configuration errors', severity: 'error' },
  { type: 'internal-import', label: 'Internal (deep) imports', severity: 'error' },
  { type: 'missing-layer', label: 'Missing layer markers', severity: 'error' },
  { type: 'circular-dependency', label: 'Circular dependencies', severity: 'error' },
  { type: 'undeclared-dependency', label: 'Undeclared dependencies', severity: 'error' },
  { type: 'unused-dependency', label: 'Unused dependencies', severity: 'error' },
  { type: 'misplaced-dependency', label: 'Misplaced dependencies', severity: 'error' },
  { type: 'undefined-feature-id', label: 'Undefined feature ids', severity: 'error' },
];

/** @param {Violation} a @param {Violation} b */
function compareViolations(a, b) {
  if (a.severity !== b.severity) return a.severity === 'error' ? -1 : 1;
  return a.file.localeCompare(b.file) || a.line - b.line || a.type.localeCompare(b.type) || a.rule.localeCompare(b.rule);
}

module.exports = { VIOLATION_TYPES, compareViolations };
