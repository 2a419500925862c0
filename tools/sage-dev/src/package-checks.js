// @ts-check
'use strict';
// Package-level checks, on manifests rather than source: layer markers, declared dependencies
// against the layer order, and module configuration (entry points, exports targets, build setup).
const fs = require('node:fs');
const path = require('node:path');
const { lineOfText } = require('./locate');

/** @typedef {import('./workspace').WorkspacePackage} WorkspacePackage */
/** @typedef {import('./layer-map').LayerMap} LayerMap */
/** @typedef {import('./violations').Violation} Violation */

const DEP_FIELDS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'];

/**
 * @param {string} root
 * @param {WorkspacePackage} p
 * @param {LayerMap} map
 * @returns {Violation[]}
 */
function checkLayerMarker(root, p, map) {
  if (!p.layer.problem) return [];
  const file = p.project ? `${p.dir}/project.json` : p.projectText ? `${p.dir}/project.json` : `${p.dir}/package.json`;
  const ids = map.layers.map((l) => l.id);
  return [
    {
      severity: 'error',
      type: 'missing-layer',
      file,
      line: p.project ? lineOfText(root, file, '"tags"') : 1,
      rule: 'layer-marker/required',
      message: `${p.name ?? p.dir} has no usable layer marker: ${p.layer.problem}`,
      suggestion: `declare the layer once as a tag in ${p.dir}/project.json: "tags": ["layer:<id>"] with <id> one of ${ids.join(', ')} (tools/sage-dev/layers.json)`,
    },
  ];
}

/**
 * @param {string} root
 * @param {WorkspacePackage} p
 * @param {WorkspacePackage[]} packages
 * @returns {Violation[]}
 */
function checkDeclaredDependencies(root, p, packages) {
  if (!p.manifest || p.layer.id === null) return [];
  const manifest = p.manifest;
  const file = `${p.dir}/package.json`;
  /** @type {Violation[]} */
  const out = [];
  for (const field of DEP_FIELDS) {
    const deps = manifest[field];
    if (!deps || typeof deps !== 'object') continue;
    for (const dep of Object.keys(deps)) {
      const q = packages.find((x) => x !== p && x.name === dep);
      if (!q || q.layer.id === null || q.layer.index < p.layer.index) continue;
      const same = q.layer.index === p.layer.index;
      out.push({
        severity: 'error',
        type: 'illegal-dependency',
        file,
        line: lineOfText(root, file, `"${dep}"`),
        rule: same ? 'package-deps/no-same-layer' : 'package-deps/no-upward',
        message: `${p.name} (${p.layer.id}) declares "${dep}" (${q.layer.id}) in "${field}": ${same ? 'same layer' : 'higher layer'}`,
        suggestion: `remove "${dep}" from "${field}" in ${file}; a package may depend only on strictly lower layers`,
      });
    }
  }
  return out;
}

/**
 * Where a built file comes from: dist/x.js and dist/x.d.ts come from src/x.ts (or .tsx/.js).
 * Lets the check pass before `npm run build` while still catching targets that can never exist.
 * @param {string} rel  target relative to the package, without "./"
 * @param {string} outDir @param {string} rootDir
 * @returns {string[]}
 */
function sourceCandidates(rel, outDir, rootDir) {
  if (!rel.startsWith(`${outDir}/`)) return [];
  const stem = rel.slice(outDir.length + 1).replace(/\.d\.ts$|\.d\.mts$|\.d\.cts$|\.js$|\.mjs$|\.cjs$|\.js\.map$/, '');
  return ['.ts', '.tsx', '.mts', '.cts', '.js'].map((ext) => `${rootDir}/${stem}${ext}`);
}

/** @param {unknown} v @param {string} where @param {Array<{ target: string, where: string }>} acc */
function collectTargets(v, where, acc) {
  if (typeof v === 'string') acc.push({ target: v, where });
  else if (Array.isArray(v)) v.forEach((x) => collectTargets(x, where, acc));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) collectTargets(x, `${where}[${JSON.stringify(k)}]`, acc);
  }
}

/**
 * @param {string} root
 * @param {WorkspacePackage} p
 * @returns {Violation[]}
 */
function checkModuleConfig(root, p) {
  const pkgFile = `${p.dir}/package.json`;
  /** @type {Violation[]} */
  const out = [];
  /** @param {string} file @param {string} needle @param {string} rule @param {string} message @param {string} suggestion */
  const err = (file, needle, rule, message, suggestion) =>
    out.push({ severity: 'error', type: 'module-config', file, line: needle ? lineOfText(root, file, needle) : 1, rule, message, suggestion });

  if (!p.manifest) {
    err(pkgFile, '', 'module-config/package-json', `${pkgFile} is not valid JSON`, 'fix the JSON syntax');
    return out;
  }
  const m = p.manifest;
  if (typeof m.name !== 'string' || !m.name) {
    err(pkgFile, '', 'module-config/name', `${pkgFile} has no "name"`, 'name the package "@sage/<folder>"');
  }
  const missing = ['main', 'types', 'exports'].filter((k) => m[k] === undefined);
  if (missing.length) {
    err(
      pkgFile,
      '',
      'module-config/entry-fields',
      `${pkgFile} declares no ${missing.map((k) => `"${k}"`).join(', ')}`,
      'declare "main": "./dist/index.js", "types": "./dist/index.d.ts" and "exports": { ".": { "sage-source": "./src/index.ts", "types": "./dist/index.d.ts", "default": "./dist/index.js" } }',
    );
  }
  const exp = m.exports;
  if (exp && typeof exp === 'object' && !Array.isArray(exp)) {
    const keys = Object.keys(exp);
    if (keys.some((k) => k.startsWith('.')) && !keys.includes('.')) {
      err(pkgFile, '"exports"', 'module-config/exports-entry', `${pkgFile} "exports" has no "." entry`, 'export the public entry as "."');
    }
  }

  // Every target must exist, or (for build output) the source it is built from must.
  const tsconfigLib = path.join(p.absDir, 'tsconfig.lib.json');
  let outDir = 'dist';
  let rootDir = 'src';
  try {
    const co = JSON.parse(fs.readFileSync(tsconfigLib, 'utf8')).compilerOptions ?? {};
    if (typeof co.outDir === 'string') outDir = co.outDir.replace(/^\.\//, '').replace(/\/$/, '');
    if (typeof co.rootDir === 'string') rootDir = co.rootDir.replace(/^\.\//, '').replace(/\/$/, '');
  } catch {
    /* reported below as a missing/invalid build config */
  }
  /** @type {Array<{ target: string, where: string }>} */
  const targets = [];
  collectTargets(m.main, 'main', targets);
  collectTargets(m.types, 'types', targets);
  collectTargets(exp, 'exports', targets);
  collectTargets(m.bin, 'bin', targets);
  for (const { target, where } of targets) {
    if (target.includes('*')) continue; // subpath patterns match many files; nothing single to check
    if (!target.startsWith('./')) {
      err(pkgFile, `"${target}"`, 'module-config/target-relative', `${where} target "${target}" must start with "./"`, `write it as "./${target.replace(/^\/+/, '')}"`);
      continue;
    }
    const rel = target.slice(2);
    if (fs.existsSync(path.join(p.absDir, rel))) continue;
    const sources = sourceCandidates(rel, outDir, rootDir);
    if (sources.some((s) => fs.existsSync(path.join(p.absDir, s)))) continue;
    err(
      pkgFile,
      `"${target}"`,
      'module-config/target-exists',
      `${where} points to "${target}", which does not exist${sources.length ? ` and is not built from any ${rootDir}/ file (looked for ${sources[0]})` : ''}`,
      sources.length ? `create ${p.dir}/${sources[0]} or point ${where} at the real entry` : `create ${p.dir}/${rel} or point ${where} at the real entry`,
    );
  }

  // Build configuration: tsconfig.lib.json and an Nx build target.
  if (!fs.existsSync(tsconfigLib)) {
    err(pkgFile, '', 'module-config/tsconfig-lib', `${p.dir} has no tsconfig.lib.json`, `add ${p.dir}/tsconfig.lib.json (extends ../../tsconfig.base.json, rootDir src, outDir dist)`);
  }
  if (p.project) {
    const targetsObj = p.project.targets;
    const hasBuild = !!(targetsObj && typeof targetsObj === 'object' && 'build' in targetsObj);
    if (!hasBuild) {
      const projectFile = `${p.dir}/project.json`;
      err(projectFile, '"targets"', 'module-config/build-target', `${projectFile} has no "build" target`, 'add a "build" target running `tsc -b tsconfig.lib.json` in the project root');
    }
  } else {
    err(pkgFile, '', 'module-config/project-json', `${p.dir} has no project.json`, `add ${p.dir}/project.json with the layer tag and the build/typecheck/lint/test targets`);
  }
  return out;
}

/**
 * @param {string} root
 * @param {WorkspacePackage[]} packages
 * @param {LayerMap} map
 * @returns {Violation[]}
 */
function runPackageChecks(root, packages, map) {
  return packages.flatMap((p) => [
    ...checkLayerMarker(root, p, map),
    ...checkDeclaredDependencies(root, p, packages),
    ...checkModuleConfig(root, p),
  ]);
}

module.exports = { runPackageChecks, checkLayerMarker, checkDeclaredDependencies, checkModuleConfig };
