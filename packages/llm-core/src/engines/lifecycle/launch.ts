// Launching one engine process: spawn it (detached, logging to its file), record its pid, wire its exit, and
// poll its health until it answers (RUNNING), exits, or the start-up deadline passes (FAILED).
import type { ChildProcess } from 'node:child_process';
import { formatShown } from './command-line';
import { tail, writeStartHeader } from './engine-log';
import type { Entry } from './entry';
import { EngineStartError } from './errors';
import { probeEngineHealth } from './health';
import { spawnDetached } from './process';
import { EngineState, type EngineEvent } from './types';

/** What a launch needs of the manager, passed explicitly. */
export interface LaunchContext {
  now: () => Date;
  startupTimeoutMs: number;
  startupPollMs: number;
  setState(e: Entry, state: EngineState, message: string): void;
  recordEvent(id: string, type: EngineEvent['type'], message: string): void;
  /** Writes the state file. */
  persist(): void;
  killProcess(e: Entry, graceMs: number): Promise<void>;
  /** Whether a supervisor restarts engines whose process exits (then they go RESTARTING, else FAILED). */
  exitWatched(): boolean;
  /** Tells the supervisor that an engine's process exited while RUNNING. */
  notifyExit(id: string, detail: string): void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Spawns the entry's command and waits for the first healthy answer; STARTING → RUNNING | FAILED. */
export async function launchEngine(entry: Entry, ctx: LaunchContext): Promise<void> {
  const id = entry.info.id;
  if (entry.info.state !== EngineState.STARTING) ctx.setState(entry, EngineState.STARTING, 'launching');
  entry.stopRequested = false;
  entry.failure = undefined;
  writeStartHeader(entry.info.logFile, ctx.now().toISOString(), formatShown(entry.cmd));
  let child: ChildProcess;
  try {
    child = spawnDetached(entry.cmd, entry.info.logFile);
  } catch (err) {
    ctx.setState(entry, EngineState.FAILED, `spawn failed: ${(err as Error).message}`);
    throw new EngineStartError(id, (err as Error).message, '');
  }
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err; // e.g. ENOENT: the command does not exist
  });
  entry.child = child;
  entry.info.pid = child.pid;
  entry.info.startedAt = ctx.now().toISOString();
  entry.info.adopted = false;
  if (child.pid !== undefined) ctx.persist();
  child.once('exit', (code, signal) => {
    if (entry.child !== child) return; // an earlier incarnation
    entry.child = undefined;
    processGone(entry, `process ${child.pid} exited (${signal ? `signal ${signal}` : `code ${code}`})`, ctx);
  });

  const deadline = Date.now() + ctx.startupTimeoutMs;
  for (;;) {
    if (entry.stopRequested) throw new EngineStartError(id, 'stopped while starting', '');
    if (spawnError || child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
      await new Promise((r) => setImmediate(r)); // let the exit event record its code first
      const why = spawnError ? spawnError.message : `process exited (${child.signalCode ?? `code ${child.exitCode}`}) before it became healthy`;
      if (entry.info.state === EngineState.STARTING) ctx.setState(entry, EngineState.FAILED, why);
      throw new EngineStartError(id, why, tail(entry.info.logFile));
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      const why = `no healthy answer within ${ctx.startupTimeoutMs} ms`;
      ctx.setState(entry, EngineState.FAILED, why);
      await ctx.killProcess(entry, 2000);
      throw new EngineStartError(id, why, tail(entry.info.logFile));
    }
    const h = await probeEngineHealth(entry.info.host, entry.info.port, entry.info.category, Math.min(2000, left));
    if (h.ok && entry.info.state === EngineState.STARTING && !entry.stopRequested && child.exitCode === null && child.signalCode === null) {
      entry.info.lastHealth = { ok: true, at: ctx.now().toISOString(), detail: h.detail };
      ctx.setState(entry, EngineState.RUNNING, `healthy (${h.detail}), pid ${child.pid}`);
      return;
    }
    await sleep(Math.min(ctx.startupPollMs, Math.max(0, deadline - Date.now())));
  }
}

/**
 * The process is gone (its exit event, or an adopted pid found dead): forget its pid; a RUNNING engine becomes
 * RESTARTING and the supervisor is told at once, or FAILED when no supervisor restarts engines.
 */
export function processGone(entry: Entry, how: string, ctx: LaunchContext): void {
  ctx.recordEvent(entry.info.id, 'exit', how);
  entry.info.pid = undefined;
  ctx.persist();
  if (entry.info.state !== EngineState.RUNNING) return;
  entry.failure = 'exit';
  const watched = ctx.exitWatched();
  ctx.setState(entry, watched ? EngineState.RESTARTING : EngineState.FAILED, `${how} unexpectedly${watched ? '; restart pending' : ''}`);
  if (watched) ctx.notifyExit(entry.info.id, how);
}
