// Embedded engines run detached and are recorded only in the client's private state directory, so no later
// control plane would ever stop them: a program that ends without close() — by exit or by a fatal signal it
// does not handle — still takes its engines (and the directory) with it.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { randomPortRanges, running, tempRoot, waitFor } from './helpers';

const CHILD = path.join(__dirname, 'fixtures', 'embedded-child.cjs');
const started: number[] = [];

afterAll(() => {
  // Only if an assertion failed: leave nothing behind.
  for (const pid of started.filter(running)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

async function runChild(mode: 'exit' | 'wait', stateRoot: string, signal: NodeJS.Signals) {
  const child = spawn(process.execPath, ['--conditions=sage-source', CHILD, mode, stateRoot, JSON.stringify(randomPortRanges())], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, sig) => resolve({ code, signal: sig })));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    void ended.then(() => reject(new Error('child ended before printing its engine pids')));
  });
  const pids = (JSON.parse(line) as { pids: number[] }).pids;
  started.push(...pids);
  const runningAtStart = pids.filter(running);
  child.kill(signal);
  return { pids, runningAtStart, end: await ended };
}

it.each([
  ['process.exit() (in its own SIGUSR2 handler)', 'exit', 'SIGUSR2'],
  ['an unhandled SIGTERM', 'wait', 'SIGTERM'],
  ['an unhandled SIGINT', 'wait', 'SIGINT'],
] as const)('a program ending by %s without close() leaves no engine and no state directory', async (_how, mode, signal) => {
  const root = tempRoot();
  try {
    const { pids, runningAtStart, end } = await runChild(mode, root.dir, signal);
    expect(pids).toHaveLength(2);
    expect(runningAtStart).toEqual(pids);
    // The signal still ends the program as it would have without the guard.
    expect(end).toEqual(mode === 'exit' ? { code: 0, signal: null } : { code: null, signal });
    const left = await waitFor(() => pids.filter(running), (l) => l.length === 0, 5000);
    expect(left).toEqual([]);
    expect(root.entries()).toEqual([]);
  } finally {
    root.remove();
  }
}, 60_000);
