// Packs the workspace's packages with `npm pack` and installs chosen tarballs into an empty folder with
// `npm install --offline`: what a user who installs the packages one by one gets, with no registry involved.
// A folder's package-lock.json is cut from the workspace's own lockfile (the versions and integrity hashes
// `npm ci` already put in npm's cache), with every workspace package replaced by its tarball; so npm resolves
// nothing from a registry, and a missing dependency in a published manifest fails the install or the import.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** One packed workspace package. */
export interface Packed {
  name: string;
  version: string;
  /** folder in the workspace, e.g. "packages/common" */
  dir: string;
  /** absolute path of the .tgz */
  tarball: string;
  integrity: string;
  /** paths inside the tarball, relative to its package folder */
  files: string[];
  /** the package.json that was packed */
  manifest: Record<string, unknown> & { name: string; version: string };
}

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  optional?: boolean;
  [key: string]: unknown;
}

/** The workspace folders (package.json "workspaces", one level of "*") that hold a package.json. */
export function workspaceDirs(root = REPO_ROOT): string[] {
  const patterns: string[] = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).workspaces ?? [];
  return patterns
    .flatMap((p) => {
      if (!p.endsWith('/*')) return [p];
      const base = p.slice(0, -2);
      return fs.existsSync(path.join(root, base)) ? fs.readdirSync(path.join(root, base)).map((d) => `${base}/${d}`) : [];
    })
    .filter((d) => fs.existsSync(path.join(root, d, 'package.json')))
    .sort();
}

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' },
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** `npm pack` of every workspace package into `dest`. */
export function packWorkspace(dest: string, root = REPO_ROOT): Packed[] {
  const dirs = workspaceDirs(root);
  fs.mkdirSync(dest, { recursive: true });
  const out: Array<{ name: string; version: string; filename: string; integrity: string; files: Array<{ path: string }> }> = JSON.parse(
    npm(['pack', ...dirs.flatMap((d) => ['-w', d]), '--pack-destination', dest, '--json'], root),
  );
  return out.map((r) => {
    const dir = dirs.find((d) => JSON.parse(fs.readFileSync(path.join(root, d, 'package.json'), 'utf8')).name === r.name);
    if (!dir) throw new Error(`packed ${r.name}, which no workspace folder holds`);
    return {
      name: r.name,
      version: r.version,
      dir,
      tarball: path.join(dest, r.filename),
      integrity: r.integrity,
      files: r.files.map((f) => f.path),
      manifest: JSON.parse(fs.readFileSync(path.join(root, dir, 'package.json'), 'utf8')),
    };
  });
}

/** Where node would find `name` from the lockfile location `from` (its own node_modules, then each parent's). */
function locate(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!base) return undefined;
    const i = base.lastIndexOf('/node_modules/');
    base = i >= 0 ? base.slice(0, i) : '';
  }
}

const KEPT_FIELDS = ['version', 'integrity', 'license', 'dependencies', 'optionalDependencies', 'peerDependencies', 'peerDependenciesMeta', 'bin', 'engines', 'os', 'cpu', 'libc', 'hasInstallScript'];

/**
 * Writes package.json and package-lock.json into `dir` so that `npm install --offline` there installs the
 * tarballs of `wanted` (package names) and, from npm's cache, exactly the dependencies the workspace resolved.
 */
export function writeInstallFolder(dir: string, packed: Packed[], wanted: string[], root = REPO_ROOT): void {
  const lock: { packages: Record<string, LockEntry> } = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  const byDir = new Map(packed.map((p) => [p.dir, p]));
  const byName = new Map(packed.map((p) => [p.name, p]));
  const spec = (p: Packed) => `file:${path.relative(dir, p.tarball).split(path.sep).join('/')}`;

  // a workspace folder moves to node_modules/<name> in the install folder; everything under it moves along
  const target = (lockPath: string): string => {
    for (const p of packed) {
      if (lockPath === p.dir) return `node_modules/${p.name}`;
      if (lockPath.startsWith(`${p.dir}/`)) return `node_modules/${p.name}/${lockPath.slice(p.dir.length + 1)}`;
    }
    return lockPath;
  };

  const out: Record<string, LockEntry> = {};
  /** lock path -> reached only through optional edges so far */
  const optionalOnly = new Map<string, boolean>();
  const queue: Array<{ from: string; optional: boolean }> = [];
  const visit = (lockPath: string, optional: boolean) => {
    const seen = optionalOnly.get(lockPath);
    if (seen === false || (seen === true && optional)) return;
    optionalOnly.set(lockPath, optional);
    queue.push({ from: lockPath, optional });
  };
  for (const name of wanted) {
    const p = byName.get(name);
    if (!p) throw new Error(`${name} was not packed`);
    visit(p.dir, false);
  }
  while (queue.length) {
    const { from, optional } = queue.shift()!;
    const entry = lock.packages[from];
    const edges: Array<[string, boolean]> = [
      ...Object.keys(entry.dependencies ?? {}).map((n): [string, boolean] => [n, false]),
      ...Object.keys(entry.optionalDependencies ?? {}).map((n): [string, boolean] => [n, true]),
      ...Object.keys(entry.peerDependencies ?? {})
        .filter((n) => !entry.peerDependenciesMeta?.[n]?.optional)
        .map((n): [string, boolean] => [n, false]),
    ];
    for (const [name, edgeOptional] of edges) {
      const at = locate(lock.packages, from, name);
      if (!at) {
        if (edgeOptional) continue;
        throw new Error(`${from} needs ${name}, which the workspace lockfile does not hold`);
      }
      const found = lock.packages[at];
      // an optional dependency the workspace's own install left out (another platform, a failed optional
      // build) is left out here too
      if (edgeOptional && !found.link && !fs.existsSync(path.join(root, at))) continue;
      const resolved = found.link ? String(found.resolved) : at;
      if (found.link && !byDir.has(resolved)) throw new Error(`${from} needs the workspace package ${name}, which was not packed`);
      visit(resolved, optional || edgeOptional);
    }
  }
  for (const [lockPath, optional] of optionalOnly) {
    const ws = byDir.get(lockPath);
    if (ws) {
      out[target(lockPath)] = {
        version: ws.version,
        resolved: spec(ws),
        integrity: ws.integrity,
        ...Object.fromEntries(KEPT_FIELDS.slice(2).filter((k) => ws.manifest[k] !== undefined).map((k) => [k, ws.manifest[k]])),
      };
      continue;
    }
    const entry = lock.packages[lockPath];
    out[target(lockPath)] = {
      ...Object.fromEntries(KEPT_FIELDS.filter((k) => entry[k] !== undefined).map((k) => [k, entry[k]])),
      ...(optional ? { optional: true } : {}),
    };
  }
  const dependencies = Object.fromEntries(wanted.map((n) => [n, spec(byName.get(n)!)]));
  const manifest = { name: 'sage-install-check', version: '0.0.0', private: true, dependencies };
  const sorted = Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  fs.writeFileSync(
    path.join(dir, 'package-lock.json'),
    `${JSON.stringify({ name: manifest.name, version: manifest.version, lockfileVersion: 3, requires: true, packages: { '': manifest, ...sorted } }, null, 2)}\n`,
  );
}

/** `npm install --offline` in `dir`: everything comes from the tarballs and npm's cache, or the install fails. */
export function installOffline(dir: string): string {
  return npm(['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], dir);
}
