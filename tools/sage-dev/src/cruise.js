// @ts-check
'use strict';
// Runs dependency-cruiser over the packages' and tools' source and turns its rule violations into checker violations.
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
 * @property {boolean} [coreModule]
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
// A tool's test fixtures are workspaces that break the rules on purpose: data, not source.
const TOOL_FIXTURES = (/** @type {string} */ toolsDir) => `^${toolsDir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/[^/]+/tests/fixtures/`;

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
 * @param {string} [toolsDir]
 * @returns {import('dependency-cruiser', { with: { 'resolution-mode': 'import' } }).ICruiseOptions}
 */
function cruiseOptions(root, forbidden, toolsDir = 'tools') {
  return {
    baseDir: root,
    validate: true,
    ruleSet: { forbidden },
    // type-only imports are dependencies too: an L1 type importing an L6 type is still upward
    tsPreCompilationDeps: true,
    moduleSystems: ['es6', 'cjs', 'tsd'],
    // dist/ is not followed but stays visible as a target, so a path into another package's build output is caught
    doNotFollow: { path: '(^|/)(?:node_modules|dist)/' },
    exclude: { path: `(^|/)coverage/|${TOOL_FIXTURES(toolsDir)}` },
    // a package located by require.resolve (an asset it serves, a bin it spawns) is a dependency too
    exoticRequireStrings: ['require.resolve'],
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
 * The folders and files to cruise: SOURCE_DIRS of every package and tool that has them, plus the loose
 * scripts directly in the tools folder.
 * @param {string} root
 * @param {WorkspacePackage[]} packages  packages and tools
 * @param {string} toolsDir
 * @returns {string[]} paths relative to the root
 */
function cruiseTargets(root, packages, toolsDir) {
  const dirs = packages.flatMap((p) =>
    SOURCE_DIRS.filter((d) => fs.existsSync(path.join(p.absDir, d))).map((d) => `${p.dir}/${d}`),
  );
  const toolsAbs = path.join(root, toolsDir);
  const loose = fs.existsSync(toolsAbs)
    ? fs
        .readdirSync(toolsAbs, { withFileTypes: true })
        .filter((e) => e.isFile() && SOURCE_EXT.test(e.name))
        .map((e) => `${toolsDir}/${e.name}`)
        .sort()
    : [];
  return [...dirs, ...loose];
}

/** @param {CycleStep} s */
const stepName = (s) => (typeof s === 'string' ? s : s.name);

/**
 * @param {object} args
 * @param {string} args.root
 * @param {WorkspacePackage[]} args.packages   the layered packages
 * @param {WorkspacePackage[]} [args.tools]    the tools (no layer)
 * @param {ForbiddenRule[]} args.forbidden
 * @param {Map<string, RuleMeta>} args.meta
 * @param {string} args.packagesDir
 * @param {string} [args.toolsDir]
 * @returns {Promise<{ files: string[], violations: Violation[], modules: CruiseModule[] }>}
 */
async function runCruise({ root, packages, tools = [], forbidden, meta, packagesDir, toolsDir = 'tools' }) {
  const targets = cruiseTargets(root, [...packages, ...tools], toolsDir);
  if (targets.length === 0) return { files: [], violations: [], modules: [] };
  const { cruise } = await loadCruiser();
  const options = cruiseOptions(root, forbidden, toolsDir);
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
  const prefixes = [`${packagesDir}/`, `${toolsDir}/`];
  const files = modules
    .filter((m) => !m.coreModule && !m.couldNotResolve && prefixes.some((x) => m.source.startsWith(x)) && SOURCE_EXT.test(m.source))
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
    const owner = [...packages, ...tools].find((p) => v.from.startsWith(`${p.dir}/`));
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
