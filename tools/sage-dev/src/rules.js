// @ts-check
'use strict';
// Generates dependency-cruiser `forbidden` rules from the layer map and the discovered packages.
// Each rule matches both the resolved path (packages/<dir>/...) and the raw specifier (@sage/x...),
// because an import that cannot be resolved (deep path blocked by `exports`, missing package) is still a violation.

/** @typedef {import('./workspace').WorkspacePackage} WorkspacePackage */
/** @typedef {import('./layer-map').LayerMap} LayerMap */
/** @typedef {import('./violations').ViolationType} ViolationType */
/** @typedef {import('./violations').Severity} Severity */

/**
 * @typedef {object} RuleMeta
 * @property {ViolationType} type
 * @property {WorkspacePackage | null} source   the importing package (null: any)
 * @property {WorkspacePackage | null} target   the imported package (null for cycles)
 * @property {string} suggestion
 */

/**
 * A dependency-cruiser "regular" forbidden rule, always named (violations are mapped back by name).
 * @typedef {import('dependency-cruiser', { with: { 'resolution-mode': 'import' } }).IRegularForbiddenRuleType & { name: string, severity: Severity }} ForbiddenRule
 */

/** @param {string} s */
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** @param {WorkspacePackage} p */
const displayName = (p) => p.name ?? p.dir;

/**
 * Every way a dependency on package `p` can show up in a cruise result.
 * @param {WorkspacePackage} p
 */
function targetPattern(p) {
  const alts = [`${esc(p.dir)}/`];
  if (p.name) alts.push(`node_modules/${esc(p.name)}/`, `${esc(p.name)}(?:/|$)`);
  return `^(?:${alts.join('|')})`;
}

/** @param {WorkspacePackage[]} ps */
const anyOf = (ps) => `^(?:${ps.map((p) => targetPattern(p).slice(4, -1)).join('|')})`;

/** @param {WorkspacePackage} p */
const sourcePattern = (p) => `^${esc(p.dir)}/`;

/**
 * The subpaths a package exports besides "." ('./testing', './http'; not './package.json' or patterns).
 * @param {WorkspacePackage} p
 * @returns {string[]}
 */
function exportedSubpaths(p) {
  const exp = /** @type {unknown} */ (p.manifest?.exports);
  if (!exp || typeof exp !== 'object' || Array.isArray(exp)) return [];
  return Object.keys(exp).filter((k) => k.startsWith('./') && k !== './package.json' && !k.includes('*'));
}

/**
 * The specifiers other packages may import: the package's name and each subpath it exports (`@sage/x/testing`).
 * @param {WorkspacePackage} p
 * @returns {string[]}
 */
function publicSpecifiers(p) {
  if (!p.name) return [];
  return [p.name, ...exportedSubpaths(p).map((k) => `${p.name}/${k.slice(2)}`)];
}

/**
 * Files a consumer may land on when importing one of the package's public entries: every target of the "."
 * export and of each exported subpath, main and types, plus package.json (exported on purpose). Without any of
 * these, src/index.* is assumed.
 * @param {WorkspacePackage} p
 * @returns {string[]} paths relative to the workspace root
 */
function publicEntryFiles(p) {
  /** @type {string[]} */
  const targets = [];
  /** @param {unknown} v */
  const collect = (v) => {
    if (typeof v === 'string') targets.push(v);
    else if (v && typeof v === 'object') Object.values(v).forEach(collect);
  };
  const m = p.manifest ?? {};
  const exp = /** @type {unknown} */ (m.exports);
  if (typeof exp === 'string' || Array.isArray(exp)) collect(exp);
  else if (exp && typeof exp === 'object') {
    const rec = /** @type {Record<string, unknown>} */ (exp);
    // exports either maps subpaths ('.', './x') or is directly a condition object for '.'
    if (Object.keys(rec).some((k) => k.startsWith('.'))) {
      collect(rec['.']);
      for (const k of exportedSubpaths(p)) collect(rec[k]);
    } else collect(rec);
  }
  collect(m.main);
  collect(m.types);
  collect(m.typings);
  const files = targets.map((t) => `${p.dir}/${t.replace(/^\.\//, '')}`);
  files.push(`${p.dir}/package.json`);
  if (targets.length === 0) files.push(`${p.dir}/src/index.ts`, `${p.dir}/src/index.js`);
  return files;
}

/**
 * @param {LayerMap} map
 * @param {WorkspacePackage[]} packages   the layered packages
 * @param {WorkspacePackage[]} [tools]    workspace tooling: bound by the public-entry and no-cycle rules, not by layers
 * @returns {{ forbidden: ForbiddenRule[], meta: Map<string, RuleMeta> }}
 */
function generateRules(map, packages, tools = []) {
  /** @type {ForbiddenRule[]} */
  const forbidden = [];
  /** @type {Map<string, RuleMeta>} */
  const meta = new Map();
  /** @param {ForbiddenRule} rule @param {RuleMeta} m */
  const add = (rule, m) => {
    forbidden.push(rule);
    meta.set(rule.name, m);
  };
  const layered = packages.filter((p) => p.layer.id !== null);
  // (whether imports are declared in package.json is checked from the cruise result: manifest-checks.js)
  const layerName = (/** @type {number} */ i) => `${map.layers[i].id} (${map.layers[i].name})`;
  // every source file the check cruises: the packages' and the tools'
  const anySource = `^(?:${esc(map.packagesDir)}|${esc(map.toolsDir ?? 'tools')})/`;

  // 1. Layer order: a package imports only packages of strictly lower layers.
  for (const p of layered) {
    const higher = layered.filter((q) => q.layer.index > p.layer.index);
    const same = layered.filter((q) => q !== p && q.layer.index === p.layer.index);
    const lower = map.layers.slice(0, p.layer.index).map((l) => l.id);
    const allowed = lower.length ? `only layers ${lower.join(', ')}` : 'no workspace package';
    if (higher.length) {
      add(
        {
          name: `layer-${p.layer.id}/no-upward-import/${p.folder}`,
          severity: 'error',
          comment: `${displayName(p)} is ${layerName(p.layer.index)}: it may not import a higher layer`,
          from: { path: sourcePattern(p) },
          to: { path: anyOf(higher) },
        },
        {
          type: 'upward-import',
          source: p,
          target: null,
          suggestion: `${displayName(p)} (${p.layer.id}) may import ${allowed}: move the needed code down to a lower layer, or move this code up into a package of a higher layer`,
        },
      );
    }
    if (same.length) {
      add(
        {
          name: `layer-${p.layer.id}/no-same-layer-import/${p.folder}`,
          severity: 'error',
          comment: `packages of ${layerName(p.layer.index)} never import each other`,
          from: { path: sourcePattern(p) },
          // locating a sibling's file with require.resolve (its bin, to run it as a process) imports none of its code
          to: { path: anyOf(same), dependencyTypesNot: ['exotic-require'] },
        },
        {
          type: 'same-layer-import',
          source: p,
          target: null,
          suggestion: `packages of the same layer never import each other: move the shared code into a lower layer, or talk across a process/HTTP boundary`,
        },
      );
    }
  }

  // 2. Public entry: other packages and the tools reach a package only through its entry (@sage/x), never a
  //    deep path, and never by a relative path into its folder.
  for (const q of packages) {
    const others = [...packages, ...tools].filter((p) => p !== q);
    if (others.length === 0) continue;
    const from = { path: anySource, pathNot: sourcePattern(q) };
    const entry = q.name ? `'${q.name}'` : 'its public entry';
    const suggestion = `import from ${entry} only; if something is missing, export it from ${q.dir}/src/index.ts`;
    add(
      {
        name: `public-entry/no-deep-import/${q.folder}`,
        severity: 'error',
        comment: `${displayName(q)} is reachable only through its public entry`,
        from,
        to: {
          path: targetPattern(q),
          pathNot: [...publicEntryFiles(q).map((f) => `^${esc(f)}$`), ...publicSpecifiers(q).map((s) => `^${esc(s)}$`)],
        },
      },
      { type: 'internal-import', source: null, target: q, suggestion },
    );
    add(
      {
        name: `public-entry/no-relative-import/${q.folder}`,
        severity: 'error',
        comment: `a relative path into ${q.dir} bypasses its package boundary`,
        from,
        to: { path: `^${esc(q.dir)}/`, dependencyTypes: ['local'] },
      },
      { type: 'internal-import', source: null, target: q, suggestion },
    );
  }

  // 3. No cycles between modules (within a package or across packages).
  add(
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'modules must not depend on each other in a cycle',
      from: { path: anySource },
      to: { circular: true },
    },
    {
      type: 'circular-dependency',
      source: null,
      target: null,
      suggestion: 'break the cycle: move what both sides need into a third module that imports neither, or pass it in as a parameter',
    },
  );

  return { forbidden, meta };
}

module.exports = { generateRules, publicEntryFiles, publicSpecifiers, targetPattern };
