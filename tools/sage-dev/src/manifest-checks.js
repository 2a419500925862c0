// @ts-check
'use strict';
// Manifest hygiene, from what dependency-cruiser saw each file import: every package a package's source imports
// is declared in its package.json, nothing is declared that no file imports, and what only tests import is a
// devDependency. A published package installs exactly its "dependencies": a missing one breaks its users,
// an extra one costs them an install, and a test-only one costs both.
const fs = require('node:fs');
const path = require('node:path');
const { linesOf } = require('./locate');

/** @typedef {import('./workspace').WorkspacePackage} WorkspacePackage */
/** @typedef {import('./cruise').CruiseModule} CruiseModule */
/** @typedef {import('./violations').Violation} Violation */

const RUNTIME_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies'];
// Folders whose imports ship with the package; everything else cruised (tests/) is test-only.
const RUNTIME_DIRS = new Set(['src', 'bin']);

/**
 * The package a bare specifier names ('@scope/x/deep' -> '@scope/x', 'x/deep' -> 'x'); null for relative,
 * absolute, subpath-import ('#x') and protocol specifiers.
 * @param {string} specifier
 * @returns {string | null}
 */
function packageNameOf(specifier) {
  if (/^(?:\.|\/|#|[a-z]+:)/i.test(specifier)) return null;
  const parts = specifier.split('/');
  if (specifier.startsWith('@')) return parts.length >= 2 && parts[1] ? `${parts[0]}/${parts[1]}` : null;
  return parts[0] || null;
}

/**
 * @typedef {object} Usage
 * @property {string[]} runtimeFiles  files under src/ or bin/ that import the package
 * @property {string[]} testFiles     other cruised files (tests/) that import it
 * @property {string} specifier       one specifier as written, to find its line
 */

/**
 * @typedef {object} Imports
 * @property {Map<string, Usage>} usage   by package name
 * @property {boolean} usesCore           some file imports a node builtin
 * @property {Set<string>} located        packages that src/ or bin/ find with require.resolve (a bin to run, an asset)
 */

/**
 * What each package's files import, by package name.
 * @param {WorkspacePackage} p
 * @param {CruiseModule[]} modules
 * @returns {Imports}
 */
function importsOf(p, modules) {
  /** @type {Map<string, Usage>} */
  const usage = new Map();
  /** @type {Set<string>} */
  const located = new Set();
  let usesCore = false;
  const prefix = `${p.dir}/`;
  for (const m of modules) {
    if (!m.source.startsWith(prefix) || /\/(?:node_modules|dist)\//.test(m.source)) continue;
    const runtime = RUNTIME_DIRS.has(m.source.slice(prefix.length).split('/')[0]);
    for (const d of m.dependencies) {
      if (d.coreModule) {
        usesCore = true;
        continue;
      }
      const name = packageNameOf(d.module);
      if (!name || name === p.name) continue;
      if (runtime && d.dependencyTypes.includes('exotic-require')) located.add(name);
      const u = usage.get(name) ?? { runtimeFiles: [], testFiles: [], specifier: d.module };
      const list = runtime ? u.runtimeFiles : u.testFiles;
      if (!list.includes(m.source)) list.push(m.source);
      usage.set(name, u);
    }
  }
  for (const u of usage.values()) {
    u.runtimeFiles.sort();
    u.testFiles.sort();
  }
  return { usage, usesCore, located };
}

/**
 * @param {Record<string, unknown>} manifest
 * @param {string} field
 * @returns {string[]}
 */
function declaredIn(manifest, field) {
  const v = manifest[field];
  return v && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : [];
}

/**
 * 1-based line of `"name"` inside the `"field": { ... }` block of a package.json, 1 when not found.
 * @param {string} root @param {string} file @param {string} field @param {string} name
 */
function lineOfDeclaration(root, file, field, name) {
  const lines = linesOf(root, file);
  const start = lines.findIndex((l) => l.includes(`"${field}"`));
  if (start < 0) return 1;
  for (let i = start; i < lines.length; i++) {
    if (lines[i].includes(`"${name}"`)) return i + 1;
    if (i > start && /^\s*}/.test(lines[i])) break;
  }
  return start + 1;
}

/**
 * The line of the first import of `specifier` in `file` (any quote), 1 when not found.
 * @param {string} root @param {string} file @param {string} name  the package name; a deep specifier starts with it
 */
function lineOfImport(root, file, name) {
  const quoted = ["'", '"', '`'].flatMap((q) => [`${q}${name}${q}`, `${q}${name}/`]);
  const i = linesOf(root, file).findIndex((l) => quoted.some((q) => l.includes(q)));
  return i < 0 ? 1 : i + 1;
}

/**
 * The version to suggest for a dependency: a workspace package's own version, else the one installed.
 * @param {string} root @param {string} name @param {WorkspacePackage[]} all
 */
function suggestedRange(root, name, all) {
  const ws = all.find((q) => q.name === name);
  if (ws) return `^${String(ws.manifest?.version ?? '0.0.0')}`;
  try {
    const v = JSON.parse(fs.readFileSync(path.join(root, 'node_modules', ...name.split('/'), 'package.json'), 'utf8')).version;
    return typeof v === 'string' ? `^${v}` : 'latest';
  } catch {
    return 'latest';
  }
}

/** @param {string[]} files */
const more = (files) => (files.length > 1 ? ` (and ${files.length - 1} more file${files.length > 2 ? 's' : ''})` : '');

/**
 * A workspace package `p` may not import at all (same or higher layer): the layer rules report such an import,
 * and declaring it is no fix.
 * @param {WorkspacePackage} p @param {string} name @param {WorkspacePackage[]} all
 */
function forbiddenByLayers(p, name, all) {
  const q = all.find((x) => x.name === name);
  return !!q && p.layer.id !== null && q.layer.id !== null && q.layer.index >= p.layer.index;
}

/**
 * @typedef {object} Provided
 * @property {Map<string, string>} runtime  package -> the workspace dependency that locates it at run time
 * @property {Map<string, string>} dev      the same through devDependencies (for the tests)
 */

/**
 * Packages a package must install for a workspace dependency that finds them at run time without being allowed
 * to declare them: @sage/llm-core locates @sage/sim-engines (same layer) with require.resolve to run its bin, so a
 * package that depends on llm-core and wants the built-in engines declares @sage/sim-engines itself.
 * @param {WorkspacePackage} p
 * @param {WorkspacePackage[]} all
 * @param {Map<WorkspacePackage, Imports>} imports
 * @returns {Provided}
 */
function providedFor(p, all, imports) {
  /** @param {string[]} fields @returns {Map<string, string>} */
  const through = (fields) => {
    /** @type {Map<string, string>} */
    const out = new Map();
    const seen = new Set([p]);
    const queue = fields.flatMap((f) => declaredIn(p.manifest ?? {}, f));
    while (queue.length) {
      const next = queue.shift();
      const q = all.find((x) => x.name === next);
      if (!q || seen.has(q) || !q.manifest) continue;
      seen.add(q);
      const declared = new Set(RUNTIME_FIELDS.flatMap((f) => declaredIn(/** @type {Record<string, unknown>} */ (q.manifest), f)));
      for (const name of imports.get(q)?.located ?? []) {
        if (!declared.has(name) && forbiddenByLayers(q, name, all) && !out.has(name)) out.set(name, q.name ?? q.dir);
      }
      queue.push(...declared);
    }
    return out;
  };
  return { runtime: through(RUNTIME_FIELDS), dev: through(['devDependencies']) };
}

/**
 * @param {string} root
 * @param {WorkspacePackage} p
 * @param {Imports} imports         what p's files import
 * @param {Provided} provided       what p installs for its workspace dependencies
 * @param {WorkspacePackage[]} all   packages and tools, for workspace versions
 * @returns {Violation[]}
 */
function checkManifest(root, p, imports, provided, all) {
  if (!p.manifest) return []; // an unreadable package.json is a module-config error already
  const manifest = p.manifest;
  const file = `${p.dir}/package.json`;
  const label = p.name ?? p.dir;
  const runtimeDeclared = new Set(RUNTIME_FIELDS.flatMap((f) => declaredIn(manifest, f)));
  const devDeclared = new Set(declaredIn(manifest, 'devDependencies'));
  const { usage, usesCore } = imports;
  /** @type {Violation[]} */
  const out = [];
  const install = (/** @type {string} */ name, /** @type {boolean} */ dev) =>
    `npm install ${name}@${suggestedRange(root, name, all)}${dev ? ' --save-dev' : ''} -w ${p.dir} (adds it to "${dev ? 'devDependencies' : 'dependencies'}")`;

  // Imported but not declared where it must be.
  for (const [name, u] of [...usage].sort(([a], [b]) => a.localeCompare(b))) {
    if (forbiddenByLayers(p, name, all)) continue;
    if (u.runtimeFiles.length) {
      if (runtimeDeclared.has(name)) continue;
      const at = u.runtimeFiles[0];
      const dev = devDeclared.has(name);
      out.push({
        severity: 'error',
        type: dev ? 'misplaced-dependency' : 'undeclared-dependency',
        file: at,
        line: lineOfImport(root, at, name),
        rule: dev ? 'manifest/dev-dependency-in-source' : 'manifest/undeclared',
        message: dev
          ? `${label} imports '${name}' in ${at}${more(u.runtimeFiles)}, but declares it only in "devDependencies": its users would not get it`
          : `${label} imports '${name}' in ${at}${more(u.runtimeFiles)}, but ${file} does not declare it`,
        suggestion: dev ? `move "${name}" from "devDependencies" to "dependencies" in ${file}` : install(name, false),
        related: [...u.runtimeFiles, file],
      });
    } else if (!runtimeDeclared.has(name) && !devDeclared.has(name)) {
      const at = u.testFiles[0];
      out.push({
        severity: 'error',
        type: 'undeclared-dependency',
        file: at,
        line: lineOfImport(root, at, name),
        rule: 'manifest/undeclared',
        message: `${label} imports '${name}' in ${at}${more(u.testFiles)}, but ${file} does not declare it`,
        suggestion: `${install(name, true)}; only tests import it`,
        related: [...u.testFiles, file],
      });
    }
  }

  /** @param {string} name */
  const isUsed = (name) => {
    if (usage.has(name)) return true;
    // @types/x serves the imports of x (and @types/node the node: builtins)
    const typed = name.startsWith('@types/') ? name.slice('@types/'.length).replace(/^([^_]+)__(.+)$/, '@$1/$2') : null;
    return typed !== null && (usage.has(typed) || (typed === 'node' && usesCore));
  };

  // Declared but not imported, or declared in the wrong field.
  for (const field of [...RUNTIME_FIELDS, 'devDependencies']) {
    for (const name of declaredIn(manifest, field).sort()) {
      const line = lineOfDeclaration(root, file, field, name);
      if (field !== 'devDependencies' && runtimeDeclared.has(name) && devDeclared.has(name)) {
        // reported once, from the runtime field
        out.push({
          severity: 'warn',
          type: 'misplaced-dependency',
          file,
          line: lineOfDeclaration(root, file, 'devDependencies', name),
          rule: 'manifest/declared-twice',
          message: `${label} declares "${name}" in both "${field}" and "devDependencies"`,
          suggestion: usage.get(name)?.runtimeFiles.length
            ? `remove "${name}" from "devDependencies" in ${file}: "${field}" is what installs`
            : `remove "${name}" from "${field}" in ${file}: only tests import it`,
        });
      }
      const providedAtRuntime = provided.runtime.has(name);
      const providedForTests = provided.dev.has(name) || providedAtRuntime;
      if (field === 'devDependencies' ? providedForTests : providedAtRuntime) continue;
      if (!isUsed(name) && field !== 'devDependencies' && provided.dev.has(name)) {
        out.push({
          severity: 'error',
          type: 'misplaced-dependency',
          file,
          line,
          rule: 'manifest/test-only-dependency',
          message: `${label} declares "${name}" in "${field}", but only its devDependency ${provided.dev.get(name)} needs it`,
          suggestion: `move "${name}" from "${field}" to "devDependencies" in ${file}`,
        });
        continue;
      }
      if (!isUsed(name)) {
        if (field === 'devDependencies' && runtimeDeclared.has(name)) continue; // counted above
        out.push({
          severity: 'error',
          type: 'unused-dependency',
          file,
          line,
          rule: 'manifest/unused',
          message: `${label} declares "${name}" in "${field}", but no file of ${p.dir} imports it`,
          suggestion: `npm uninstall ${name} -w ${p.dir} (or import it where it is needed)`,
        });
        continue;
      }
      const u = usage.get(name);
      if (field !== 'devDependencies' && u && u.runtimeFiles.length === 0 && !devDeclared.has(name)) {
        out.push({
          severity: 'error',
          type: 'misplaced-dependency',
          file,
          line,
          rule: 'manifest/test-only-dependency',
          message: `${label} declares "${name}" in "${field}", but only its tests import it (${u.testFiles[0]}${more(u.testFiles)})`,
          suggestion: `move "${name}" from "${field}" to "devDependencies" in ${file}: users of the package need not install it`,
          related: [file, ...u.testFiles],
        });
      }
    }
  }
  return out;
}

/**
 * @param {string} root
 * @param {WorkspacePackage[]} packages  packages and tools
 * @param {CruiseModule[]} modules       the cruise result's modules
 * @returns {Violation[]}
 */
function runManifestChecks(root, packages, modules) {
  const imports = new Map(packages.map((p) => [p, importsOf(p, modules)]));
  return packages.flatMap((p) => checkManifest(root, p, /** @type {Imports} */ (imports.get(p)), providedFor(p, packages, imports), packages));
}

module.exports = { runManifestChecks, checkManifest, packageNameOf };
