// Last resort for embedded engines. They run detached (their own process group, so a stop signals the whole
// tree) and record themselves only in the client's private state directory, which no later control plane
// reads: if this process ended without close(), nothing would ever stop them. So while any embedded client
// is open, process exit kills their groups and removes the directory, and so does a fatal signal
// (SIGINT, SIGTERM, SIGHUP) that nothing else handles — then the signal is raised again to end the process
// as it would have. A program with its own handler decides itself (its exit still runs the exit hook).
import { rmSync } from 'node:fs';
import { signalGroup } from '../engines/lifecycle/process';

export interface GuardedEngines {
  /** Pids of the engine processes to kill. */
  pids(): number[];
  /** The private state directory to remove. */
  stateDir: string;
}

const FATAL_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const guarded = new Set<GuardedEngines>();

function killAll(): void {
  for (const g of guarded) {
    for (const pid of g.pids()) signalGroup(pid, 'SIGKILL');
    try {
      rmSync(g.stateDir, { recursive: true, force: true });
    } catch {
      // exiting anyway: a leftover temp directory is harmless
    }
  }
  guarded.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return; // someone else handles it
  killAll();
  uninstall();
  process.kill(process.pid, signal);
}

function install(): void {
  process.on('exit', killAll);
  for (const s of FATAL_SIGNALS) process.on(s, onSignal);
}

function uninstall(): void {
  process.off('exit', killAll);
  for (const s of FATAL_SIGNALS) process.off(s, onSignal);
}

/** Guards a set of engines until the returned function is called (after they were stopped). */
export function guardEngines(g: GuardedEngines): () => void {
  if (guarded.size === 0) install();
  guarded.add(g);
  return () => {
    if (!guarded.delete(g)) return;
    if (guarded.size === 0) uninstall();
  };
}
