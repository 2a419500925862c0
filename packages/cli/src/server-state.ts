// The running control plane's footprint in SAGE_HOME: a pid file and server.json (url, pid, effective config).
// A stale pid file (process gone, or the pid reused by something that is not sage) counts as "not running".
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SettingSources } from '@sage/llm-core';
import type { SageConfig } from './config';
import type { SageHome } from './home';

export interface ServerRecord {
  pid: number;
  /** http://host:port (no /v1). */
  url: string;
  state: 'starting' | 'running' | 'stopping';
  startedAt: string;
  background: boolean;
  logFile?: string;
  configSource: string;
  /** Effective settings, backend API keys hidden. */
  config: SageConfig;
  /** Where each setting came from. */
  sources?: SettingSources;
}

/** A zombie (exited, not yet reaped by whoever inherited it) still answers kill(pid, 0); it is not running. */
function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !isZombie(pid);
}

/** On Linux, whether the pid still runs node with a `sage` script (guards against pid reuse). */
function looksLikeSage(pid: number): boolean {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /sage/.test(cmdline);
  } catch {
    return true; // no procfs: trust the pid
  }
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function writeAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

export function readPid(home: SageHome): number | undefined {
  try {
    const n = Number(fs.readFileSync(home.pidFile, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** The running control plane, or undefined (cleaning up stale files on the way). */
export function findRunning(home: SageHome): ServerRecord | { pid: number; url?: undefined; state: 'starting' } | undefined {
  const pid = readPid(home);
  if (pid === undefined) return undefined;
  if (!isAlive(pid) || !looksLikeSage(pid)) {
    clearServer(home, pid);
    return undefined;
  }
  const record = readJson<ServerRecord>(home.serverFile);
  if (record && record.pid === pid) return record;
  // The pid file is written before the server listens: it is starting.
  return { pid, state: 'starting' };
}

/**
 * Claims the pid file for this process. Exclusive create, so two `sage inference start` racing each other
 * cannot both win; a stale file is replaced. Returns the pid of the live owner when someone else holds it.
 */
export function claimPidFile(home: SageHome): { ok: true } | { ok: false; pid: number } {
  fs.mkdirSync(path.dirname(home.pidFile), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(home.pidFile, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
      return { ok: true };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = readPid(home);
      if (owner !== undefined && owner !== process.pid && isAlive(owner) && looksLikeSage(owner)) return { ok: false, pid: owner };
      if (owner === process.pid) return { ok: true };
      fs.rmSync(home.pidFile, { force: true });
    }
  }
  return { ok: true };
}

export function writeServer(home: SageHome, record: ServerRecord): void {
  writeAtomic(home.serverFile, `${JSON.stringify(record, null, 2)}\n`);
}

/** Removes the pid file and server.json if they still belong to `pid`. */
export function clearServer(home: SageHome, pid: number): void {
  if (readPid(home) === pid) fs.rmSync(home.pidFile, { force: true });
  const record = readJson<ServerRecord>(home.serverFile);
  if (!record || record.pid === pid) fs.rmSync(home.serverFile, { force: true });
}

/** Engines the control plane with `ownerPid` started, from @sage/llm-core's state file (for `stop --force`). */
export function enginePidsOf(home: SageHome, ownerPid: number): number[] {
  const state = readJson<{ engines?: { pid?: number; ownerPid?: number }[] }>(home.engineStateFile);
  return (state?.engines ?? []).filter((e) => e.ownerPid === ownerPid && Number.isInteger(e.pid)).map((e) => e.pid!);
}
