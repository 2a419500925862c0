// Process plumbing for engines: detached spawn (own process group), liveness, group kill, exit wait.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import type { CommandLine } from '../kinds/types';

/** Starts a command in its own process group with stdout and stderr appended to logFile. */
export function spawnDetached(cmd: CommandLine, logFile: string): ChildProcess {
  const fd = fs.openSync(logFile, 'a');
  try {
    return spawn(cmd.command, cmd.args, {
      detached: true, // own process group: the whole tree can be signalled through -pid
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...cmd.env },
    });
  } finally {
    fs.closeSync(fd); // the child holds its own copy
  }
}

/** True while a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Signals the process group led by pid, or the process alone if it leads none. Never throws. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
    return;
  } catch {
    // not a group leader, or already gone
  }
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls a process that is not our child (an adopted engine: no exit event comes) and calls `onGone` once when it
 * no longer exists. Returns the function that stops watching. The timer never keeps the process alive.
 */
export function watchPid(pid: number, intervalMs: number, onGone: () => void): () => void {
  const timer = setInterval(() => {
    if (isAlive(pid)) return;
    clearInterval(timer);
    onGone();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

function childExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves true once the process has exited (reaped, for our own children), false on timeout. */
export async function waitForExit(pid: number, timeoutMs: number, child?: ChildProcess): Promise<boolean> {
  if (child) {
    if (childExited(child)) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        child.off('exit', onExit);
        resolve(false);
      }, timeoutMs);
      const onExit = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      child.once('exit', onExit);
    });
  }
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

/**
 * SIGTERM to the group, SIGKILL after graceMs if the leader is still there, and a final SIGKILL to the group
 * so that no grandchild outlives its leader. Resolves how it ended.
 */
export async function terminate(pid: number, graceMs: number, child?: ChildProcess): Promise<'exited' | 'killed' | 'stuck'> {
  signalGroup(pid, 'SIGTERM');
  let how: 'exited' | 'killed' | 'stuck' = 'exited';
  if (!(await waitForExit(pid, graceMs, child))) {
    how = 'killed';
    signalGroup(pid, 'SIGKILL');
    if (!(await waitForExit(pid, 5000, child))) how = 'stuck';
  }
  signalGroup(pid, 'SIGKILL');
  return how;
}

/** argv of a running process from /proc (Linux); undefined where /proc is not available. */
export function commandLineOf(pid: number): string[] | undefined {
  try {
    const raw = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((s, i, all) => s !== '' || i < all.length - 1);
  } catch {
    return undefined;
  }
}

/**
 * Whether a live pid still runs the command we recorded (guards against pid reuse before we signal it).
 * Interpreters and PATH lookups change argv[0..1], so the recorded arguments must match argv's tail.
 * Where /proc is missing the answer is undefined: the caller then relies on the health check alone.
 */
export function runsCommand(pid: number, command: readonly string[]): boolean | undefined {
  const argv = commandLineOf(pid);
  if (!argv) return undefined;
  const args = command.slice(1);
  if (args.length === 0) return argv.some((a) => a === command[0] || a.endsWith(`/${command[0]}`));
  const tail = argv.slice(-args.length);
  return tail.length === args.length && tail.every((a, i) => a === args[i]);
}
