// Expands the paths given to ingest into the files to read. Every problem is found here, before anything
// is embedded or stored, so a bad request stores nothing.
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { GatewayError } from '../errors';
import type { LoaderRegistry } from './loaders';

/** A folder named among the paths. */
export interface CollectedFolder {
  /** Absolute and resolved (no `.`/`..`, no trailing slash), as the sources of its files begin. */
  path: string;
  /** As given, and its index among the paths (for errors). */
  given: string;
  index: number;
  /** Supported files found in it. */
  files: number;
}

export interface CollectedFiles {
  /** Absolute paths of supported files, sorted, without duplicates. */
  files: string[];
  /** Files inside folders that were passed over, and why. */
  skipped: { path: string; reason: string }[];
  /** The folders among the paths, in the order given. */
  folders: CollectedFolder[];
}

export interface CollectOptions {
  /** Return a folder without supported files (files: 0) instead of failing with `empty_folder`. */
  allowEmptyFolders?: boolean;
}

async function statOrNull(p: string) {
  try {
    return await stat(p);
  } catch {
    return null;
  }
}

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    if (e.name.startsWith('.')) continue; // .git, editor swap files and the like are not documents
    const full = path.join(dir, e.name);
    if (e.isDirectory()) await walk(full, out);
    else if (e.isFile()) out.push(full);
  }
}

/** True when `target` is `root` or lies inside it (both absolute and resolved). */
export function within(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * @param allowedRoots when given, every path must resolve (symlinks followed) inside one of these folders;
 *   anything else is refused with 403, so a gateway reachable by others cannot be made to read arbitrary files.
 */
export async function collectFiles(
  paths: readonly string[],
  loaders: LoaderRegistry,
  baseDir = process.cwd(),
  allowedRoots?: readonly string[],
  options: CollectOptions = {},
): Promise<CollectedFiles> {
  const roots = allowedRoots && (await Promise.all(allowedRoots.map((r) => realpath(path.resolve(baseDir, r)).catch(() => path.resolve(baseDir, r)))));
  const files = new Set<string>();
  const skipped: CollectedFiles['skipped'] = [];
  const folders: CollectedFolder[] = [];
  const supported = loaders.extensions.join(', ');
  for (const [i, given] of paths.entries()) {
    const abs = path.resolve(baseDir, given);
    const st = await statOrNull(abs);
    if (!st) throw new GatewayError(400, `path not found: ${given}`, 'path_not_found', `paths.${i}`);
    if (roots) {
      const real = await realpath(abs);
      if (!roots.some((r) => within(r, real))) throw new GatewayError(403, `path ${given} is outside the folders this gateway may ingest from`, 'path_not_allowed', `paths.${i}`);
    }
    if (st.isDirectory()) {
      const found: string[] = [];
      await walk(abs, found);
      const usable = found.filter((f) => loaders.forFile(f));
      for (const f of found) if (!loaders.forFile(f)) skipped.push({ path: f, reason: `unsupported file type (supported: ${supported})` });
      if (usable.length === 0 && !options.allowEmptyFolders) throw emptyFolderError(given, i, loaders);
      folders.push({ path: abs, given, index: i, files: usable.length });
      for (const f of usable) files.add(f);
    } else if (st.isFile()) {
      if (!loaders.forFile(abs)) {
        throw new GatewayError(400, `unsupported file type: ${given} (supported: ${supported})`, 'unsupported_file_type', `paths.${i}`);
      }
      files.add(abs);
    } else {
      throw new GatewayError(400, `not a file or folder: ${given}`, 'unsupported_file_type', `paths.${i}`);
    }
  }
  return { files: [...files].sort(), skipped, folders };
}

export function emptyFolderError(given: string, index: number, loaders: LoaderRegistry): GatewayError {
  return new GatewayError(400, `folder ${given} contains no supported documents (supported: ${loaders.extensions.join(', ')})`, 'empty_folder', `paths.${index}`);
}
