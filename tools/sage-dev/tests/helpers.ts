// Test helpers: materialise fixture workspaces in temp dirs and run the real `sage-dev` bin on them.
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Report } from '../src/check';
import type { Violation, ViolationType } from '../src/violations';

export type { Report, Violation, ViolationType };

export const BIN = path.resolve(__dirname, '..', 'bin', 'sage-dev.js');
export const FIXTURES = path.resolve(__dirname, 'fixtures');
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

const made: string[] = [];

/** A fresh temp dir, removed by removeWorkspaces(). */
export function tempDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sage-dev-${label}-`));
  made.push(dir);
  return dir;
}

/** Like npm workspaces: node_modules/<name> -> ../../packages/<folder> for every package. */
export function linkWorkspacePackages(root: string): void {
  const packagesDir = path.join(root, 'packages');
  for (const folder of fs.readdirSync(packagesDir)) {
    const manifest = path.join(packagesDir, folder, 'package.json');
    if (!fs.existsSync(manifest)) continue;
    const name: string = JSON.parse(fs.readFileSync(manifest, 'utf8')).name;
    const link = path.join(root, 'node_modules', ...name.split('/'));
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.relative(path.dirname(link), path.join(packagesDir, folder)), link, 'dir');
  }
}

/**
 * Copies the clean fixture to a temp dir, then lays the named overlay fixture over it
 * (an overlay holds only the files that differ, plus an optional .fixture-remove list).
 */
export function makeWorkspace(overlay?: string): string {
  const root = tempDir(overlay ?? 'clean');
  fs.cpSync(path.join(FIXTURES, 'clean'), root, { recursive: true });
  if (overlay) {
    const src = path.join(FIXTURES, overlay);
    if (!fs.existsSync(src)) throw new Error(`no fixture ${overlay}`);
    fs.cpSync(src, root, { recursive: true, force: true });
    const removeList = path.join(root, '.fixture-remove');
    if (fs.existsSync(removeList)) {
      for (const line of fs.readFileSync(removeList, 'utf8').split('\n')) {
        const rel = line.trim();
        if (rel && !rel.startsWith('#')) fs.rmSync(path.join(root, rel), { force: true });
      }
      fs.rmSync(removeList);
    }
  }
  linkWorkspacePackages(root);
  return root;
}

export function removeWorkspaces(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real bin as a child process, from a cwd outside any workspace so --root is what counts. */
export function runChecker(args: string[]): RunResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: os.tmpdir(), encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `architecture check --root <root> --format json` (plus extra flags) and parses the report. */
export function checkJson(root: string, extra: string[] = []): RunResult & { report: Report } {
  const r = runChecker(['architecture', 'check', '--root', root, '--format', 'json', ...extra]);
  let report: Report;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    throw new Error(`no JSON report (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { ...r, report };
}

export function ofType(report: Report, type: ViolationType): Violation[] {
  return report.violations.filter((v) => v.type === type);
}

/** Async variant of checkJson, so a suite can run several checker processes side by side. */
export function checkJsonAsync(root: string, extra: string[] = []): Promise<RunResult & { report: Report }> {
  const args = [BIN, 'architecture', 'check', '--root', root, '--format', 'json', ...extra];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: os.tmpdir(), encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      try {
        resolve({ code, stdout, stderr, report: JSON.parse(stdout) });
      } catch {
        reject(new Error(`no JSON report (exit ${code}):\n${stdout}\n${stderr}`));
      }
    });
  });
}

/** Runs `jobs` with at most `limit` in flight (the machine is small and shared). */
export async function inBatches<T>(jobs: Array<() => Promise<T>>, limit = 3): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}
