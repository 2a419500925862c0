// @ts-check
'use strict';
// Runs the whole architecture check: discover, generate rules, cruise, package checks, scope, count.
const { discoverPackages, discoverTools, loadWorkspaceLayerMap, toolsDirOf } = require('./workspace');
const { generateRules } = require('./rules');
const { runCruise } = require('./cruise');
const { runPackageChecks } = require('./package-checks');
const { runManifestChecks } = require('./manifest-checks');
const { runFeatureIdChecks } = require('./feature-ids');
const { changedFiles } = require('./git-diff');
const { VIOLATION_TYPES, compareViolations } = require('./violations');

/** @typedef {import('./violations').Violation} Violation */
/** @typedef {import('./violations').ViolationType} ViolationType */

/**
 * @typedef {object} CheckOptions
 * @property {string} root
 * @property {boolean} [strict]
 * @property {'all' | 'changed-only' | 'diff'} [scope]
 * @property {string} [ref]         for scope 'diff'
 * @property {string} [layersFile]
 */

/**
 * @typedef {object} Report
 * @property {string} root
 * @property {string} layerMap       the layer map file used
 * @property {{ mode: 'all' | 'changed-only' | 'diff', ref: string | null, changedFiles: string[] | null }} scope
 * @property {boolean} strict
 * @property {Array<{ name: string | null, dir: string, layer: string | null }>} packages
 * @property {Array<{ name: string | null, dir: string }>} tools
 * @property {{ filesChecked: number, packagesChecked: number, toolsChecked: number, rulesGenerated: number, errors: number, warnings: number, byType: Record<ViolationType, number> }} summary
 * @property {Violation[]} violations
 * @property {boolean} ok
 * @property {number} exitCode
 */

/**
 * @param {CheckOptions} opts
 * @returns {Promise<Report>}
 */
async function runCheck(opts) {
  const { root } = opts;
  const mode = opts.scope ?? 'all';
  const { map, file: layerMapFile } = loadWorkspaceLayerMap(root, opts.layersFile);
  const packages = discoverPackages(root, map);
  const tools = discoverTools(root, map);
  const toolsDir = toolsDirOf(map);
  const { forbidden, meta } = generateRules(map, packages, tools);
  // Ask git first: a bad ref fails fast, and a change set outside the packages and tools needs no cruise at all.
  const changed = mode === 'all' ? null : changedFiles(root, mode === 'diff' ? String(opts.ref) : 'HEAD');
  const touchesSource = !changed || [...changed].some((f) => f.startsWith(`${map.packagesDir}/`) || f.startsWith(`${toolsDir}/`));
  const cruised = touchesSource
    ? await runCruise({ root, packages, tools, forbidden, meta, packagesDir: map.packagesDir, toolsDir })
    : null;
  let violations = [
    ...(cruised?.violations ?? []),
    ...runPackageChecks(root, packages, map),
    // imports against manifests need the cruise's view of every file, so only when it ran
    ...(cruised ? runManifestChecks(root, [...packages, ...tools], cruised.modules) : []),
    // the checker's fixture workspaces cite whatever their tests need
    ...runFeatureIdChecks(root, [map.packagesDir, toolsDir], (rel) => new RegExp(`^${toolsDir}/[^/]+/tests/fixtures$`).test(rel)),
  ];
  let files = cruised?.files ?? [];
  if (changed) {
    // whole-graph analysis (cycles need it), then keep what touches a changed file
    const inScope = /** @param {string} f */ (f) => changed.has(f);
    files = files.filter(inScope);
    violations = violations.filter((v) => inScope(v.file) || (v.related ?? []).some(inScope));
  }
  violations.sort(compareViolations);

  const byType = /** @type {Record<ViolationType, number>} */ (
    Object.fromEntries(VIOLATION_TYPES.map((t) => [t.type, violations.filter((v) => v.type === t.type).length]))
  );
  const errors = violations.filter((v) => v.severity === 'error').length;
  const warnings = violations.length - errors;
  const failed = errors > 0 || (!!opts.strict && warnings > 0);
  return {
    root,
    layerMap: layerMapFile,
    scope: {
      mode,
      ref: mode === 'diff' ? String(opts.ref) : mode === 'changed-only' ? 'HEAD' : null,
      changedFiles: changed ? [...changed].sort() : null,
    },
    strict: !!opts.strict,
    packages: packages.map((p) => ({ name: p.name, dir: p.dir, layer: p.layer.id })),
    tools: tools.map((t) => ({ name: t.name, dir: t.dir })),
    summary: {
      filesChecked: files.length,
      packagesChecked: packages.length,
      toolsChecked: tools.length,
      rulesGenerated: forbidden.length,
      errors,
      warnings,
      byType,
    },
    violations,
    ok: !failed,
    exitCode: failed ? 1 : 0,
  };
}

module.exports = { runCheck };
