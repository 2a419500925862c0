// @ts-check
'use strict';
// Runs dependency-cruiser over the packages' source and turns its rule violations into checker violations.
const fs = require('node:fs');
const path = require('node:path');
const { lineOfSpecifier } = require('./locate');

/** @typedef {import('./workspace').WorkspacePackage} WorkspacePackage */
/** @typedef {import('./rules').RuleMeta} RuleMeta */
/** @typedef {import('./rules').ForbiddenRule} ForbiddenRule */
/** @typedef {import('./violations').Violation} Violation */

/**
 * @typedef {object} CruiseDependency
 * @property {string} module
 * @property {string} resolved
 * @property {boolean} couldNotResolve
 * @property {string[]} dependencyTypes
 */
/** @typedef {{ source: string, coreModule?: boolean, couldNotResolve?: boolean, dependencies: CruiseDependency[] }} CruiseModule */
/** @typedef {{ name: string } | string} CycleStep */
/**
 * @typedef {object} CruiseViolation
 * @property {string} from
 * @property {string} to
 * @property {{ name: string, severity: string }} rule
 * @property {CycleStep[]} [cycle]
 */

const SOURCE_EXT = /\.(?:ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;
// Source folders of a package that the layer law covers (tests and bin scripts may not import upward either).
const SOURCE_DIRS = ['src', 'tests', 'bin'];

/**
 * dependency-cruiser is ESM-only; a dynamic import keeps this tool plain CommonJS.
 * @returns {Promise<typeof import('dependency-cruiser', { with: { 'resolution-mode': 'import' } })>}
 */
function loadCruiser() {
  return import('dependency-cruiser');
}

/**
 * @param {string} root
 * @param {ForbiddenRule[]} forbidden
 * @returns {import('dependency-cruiser', { with: { 'resolution-mode': 'import' } }).ICruiseOptions}
 */
function cruiseOptions(root, forbidden) {
  return {
    baseDir: root,
    validate: true,
    ruleSet: { forbidden },
    // type-only imports are dependencies too: an L1 type importing an L6 type is still upward
    tsPreCompilationDeps: true,
    moduleSystems: ['es6', 'cjs', 'tsd'],
    // dist/ is not followed but stays visible as a target, so a path into another package's build output is caught
    doNotFollow: { path: '(^|/)(?:node_modules|dist)/' },
    exclude: { path: '(^|/)coverage/' },
    preserveSymlinks: false,
    combinedDependencies: false,
    // `@sage/x` resolves through the npm-workspace symlink and the `sage-source` export condition
    // to packages/x/src/index.ts, exactly as the jest preset resolves it.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['sage-source', 'require', 'node', 'import', 'types', 'default'],
      extensions: ['.ts', '.tsx', '.d.ts', '.mts', '.cts', '.js', '.cjs', '.mjs', '.json'],
      mainFields: ['main', 'types'],
    },
  };
}

/**
 * The folders to cruise: SOURCE_DIRS of every package that has them.
 * @param {WorkspacePackage[]} packages
 * @returns {string[]} paths relative to the root
 */
function cruiseTargets(packages) {
  return packages.flatMap((p) =>
    SOURCE_DIRS.filter((d) => fs.existsSync(path.join(p.absDir, d))).map((d) => `${p.dir}/${d}`),
  );
}

/** @param {CycleStep} s */
const stepName = (s) => (typeof s === 'string' ? s : s.name);

/**
 * @param {object} args
 * @param {string} args.root
 * @param {WorkspacePackage[]} args.packages
 * @param {ForbiddenRule[]} args.forbidden
 * @param {Map<string, RuleMeta>} args.meta
 * @param {string} args.packagesDir
 * @returns {Promise<{ files: string[], violations: Violation[], modules: CruiseModule[] }>}
 */
async function runCruise({ root, packages, forbidden, meta, packagesDir }) {
  const targets = cruiseTargets(packages);
  if (targets.length === 0) return { files: [], violations: [], modules: [] };
  const { cruise } = await loadCruiser();
  const options = cruiseOptions(root, forbidden);
  // dependency-cruiser resolves the file arguments against the process cwd; run it from the root.
  const cwd = process.cwd();
  process.chdir(root);
  let result;
  try {
    result = await cruise(targets, options, { bustTheCache: true });
  } finally {
    process.chdir(cwd);
  }
  const output = /** @type {{ modules: CruiseModule[], summary: { violations: CruiseViolation[] } }} */ (result.output);
  const modules = output.modules;
  const prefix = `${packagesDir}/`;
  const files = modules
    .filter((m) => !m.coreModule && !m.couldNotResolve && m.source.startsWith(prefix) && SOURCE_EXT.test(m.source))
    .filter((m) => !/\/(?:node_modules|dist)\//.test(m.source))
    .map((m) => m.source)
    .sort();
  const bySource = new Map(modules.map((m) => [m.source, m]));

  /** @type {Violation[]} */
  const violations = [];
  const seenCycles = new Set();
  for (const v of output.summary.violations) {
    const m = meta.get(v.rule.name);
    if (!m) continue;
    const dep = bySource.get(v.from)?.dependencies.find((d) => d.resolved === v.to);
    const specifier = dep?.module ?? v.to;
    const severity = v.rule.severity === 'warn' ? 'warn' : 'error';
    if (m.type === 'circular-dependency') {
      const cycle = (v.cycle ?? []).map(stepName);
      const members = [v.from, ...cycle.filter((c) => c !== v.from)];
      const key = [...new Set(members)].sort().join('\n');
      if (seenCycles.has(key)) continue;
      seenCycles.add(key);
      violations.push({
        severity,
        type: m.type,
        file: v.from,
        line: lineOfSpecifier(root, v.from, specifier),
        rule: v.rule.name,
        message: `circular dependency: ${[v.from, ...cycle].join(' -> ')}`,
        suggestion: m.suggestion,
        related: [...new Set(members)],
      });
      continue;
    }
    const owner = packages.find((p) => v.from.startsWith(`${p.dir}/`));
    const target = m.target ?? packages.find((q) => v.to.startsWith(`${q.dir}/`) || (q.name && (v.to === q.name || v.to.startsWith(`${q.name}/`))));
    const fromLabel = owner ? `${owner.name ?? owner.dir}${owner.layer.id ? ` (${owner.layer.id})` : ''}` : v.from;
    const toLabel = target ? `${target.name ?? target.dir}${target.layer.id ? ` (${target.layer.id})` : ''}` : v.to;
    /** @type {Record<string, string>} */
    const messages = {
      'upward-import': `${fromLabel} imports '${specifier}' of the higher layer ${toLabel}`,
      'same-layer-import': `${fromLabel} imports '${specifier}' of the same layer ${toLabel}`,
      'internal-import': v.rule.name.includes('relative')
        ? `'${specifier}' reaches into the folder of ${toLabel} by a relative path (${v.to})`
        : `'${specifier}' reaches past the public entry of ${toLabel}${dep && !dep.couldNotResolve ? ` (resolves to ${v.to})` : ''}`,
      'undeclared-dependency': `${fromLabel} imports '${specifier}' but ${owner?.dir ?? 'its'}/package.json does not declare ${target?.name ?? v.to}`,
    };
    violations.push({
      severity,
      type: m.type,
      file: v.from,
      line: lineOfSpecifier(root, v.from, specifier),
      rule: v.rule.name,
      message: messages[m.type] ?? `${v.from} -> ${v.to}`,
      suggestion: m.suggestion,
    });
  }
  return { files, violations, modules };
}

module.exports = { runCruise, cruiseTargets, cruiseOptions };
