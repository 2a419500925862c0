// `sage inference start --background`: spawns the foreground start as a detached process writing to the log
// file, then follows it until /health is ok and every engine is RUNNING (or it dies, or time runs out).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ApiClient, type Health } from './api';
import { CliError, ExitCode } from './errors';
import { BACKGROUND_ENV } from './foreground';
import type { SageHome } from './home';
import { formatLogLine, type Out } from './output';
import { createProgress } from './progress';
import { findRunning } from './server-state';
import { sageEntry } from './version';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The last few lines the child wrote, to explain a failed start. */
function lastError(logFile: string, fromByte: number): string | undefined {
  let text = '';
  try {
    const fd = fs.openSync(logFile, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const buf = Buffer.alloc(Math.max(0, size - fromByte));
      fs.readSync(fd, buf, 0, buf.length, fromByte);
      text = buf.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const lines = text.split('\n').filter(Boolean);
  // The child prints its one-line error as `sage: …` on stderr (the same file); prefer it over pino lines.
  const plain = [...lines].reverse().find((l) => l.startsWith('sage: '));
  if (plain) return plain.slice('sage: '.length);
  for (const l of [...lines].reverse()) {
    try {
      const rec = JSON.parse(l) as { level?: number; msg?: string; error?: string };
      if ((rec.level ?? 0) >= 50) return [rec.msg, rec.error].filter(Boolean).join(': ');
    } catch {
      // not JSON
    }
  }
  const last = lines.at(-1);
  return last === undefined ? undefined : formatLogLine(last);
}

export function describeEngines(health: Health): string {
  if (!health.engines.length) return health.instances.length ? `none (${health.instances.length} external backend${health.instances.length === 1 ? '' : 's'})` : 'none yet';
  return health.engines.map((e) => `${e.id} ${e.state}`).join(', ');
}

export interface BackgroundResult {
  pid: number;
  url: string;
  health: Health;
}

export async function startInBackground(
  args: string[],
  opts: { home: SageHome; out: Out; timeoutMs: number; quiet?: boolean; /** engines the preset starts, for "1/2 running" */ expectedEngines?: number },
): Promise<BackgroundResult> {
  const { home, out } = opts;
  fs.mkdirSync(path.dirname(home.logFile), { recursive: true });
  const startByte = fs.existsSync(home.logFile) ? fs.statSync(home.logFile).size : 0;
  fs.appendFileSync(home.logFile, `\n=== ${new Date().toISOString()} sage inference start ${args.join(' ')}\n`);
  const fd = fs.openSync(home.logFile, 'a');
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const child = spawn(process.execPath, [sageEntry(), 'inference', 'start', ...args], {
    detached: true, // its own process group, so it outlives this command and `stop --force` can kill the group
    stdio: ['ignore', fd, fd],
    env: { ...process.env, SAGE_HOME: home.root, [BACKGROUND_ENV]: '1' },
  });
  fs.closeSync(fd);
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });
  const pid = child.pid;
  if (pid === undefined) throw new CliError('could not start the control plane process');

  const progress = createProgress(out, `starting sage (pid ${pid})…`, { quiet: opts.quiet });
  const deadline = Date.now() + opts.timeoutMs;
  try {
    while (Date.now() < deadline) {
      if (exited) {
        if (exited.code === 0) {
          progress.fail('sage was stopped while starting');
          throw new CliError(`stopped (pid ${pid}) before it finished starting`);
        }
        const why = lastError(home.logFile, startByte) ?? `it exited with ${exited.signal ?? `code ${exited.code}`}`;
        // The child's own exit code says what kind of failure it was (usage, already running, other).
        const code = exited.code === ExitCode.USAGE || exited.code === ExitCode.ALREADY_RUNNING ? exited.code : ExitCode.FAILURE;
        progress.fail('sage did not start');
        throw new CliError(`did not start: ${why} (log: ${home.logFile})`, code);
      }
      const rec = findRunning(home);
      if (rec?.url && rec.pid === pid) {
        const health = await new ApiClient(rec.url).health(2000).catch(() => undefined);
        if (health) {
          const engines = describeEngines(health);
          const allRunning = health.engines.every((e) => e.state === 'RUNNING');
          // A control plane started with no engines (--preset none: its engines register later) has nothing to wait for.
          const nothingToServeYet = health.status === 'starting' && (opts.expectedEngines ?? 0) === 0 && health.instances.length === 0;
          if (rec.state === 'running' && (health.status === 'ok' || nothingToServeYet) && allRunning && health.ready !== false) {
            progress.succeed(`sage is running (pid ${pid}) — engines: ${engines}`);
            return { pid, url: rec.url, health };
          }
          const up = health.engines.filter((e) => e.state === 'RUNNING').length;
          const of = Math.max(opts.expectedEngines ?? 0, health.engines.length);
          progress.update(`starting engines${of ? ` (${up}/${of} running)` : ''}: ${engines}`);
        } else {
          progress.update(`starting sage (pid ${pid}): waiting for ${rec.url}/health…`);
        }
      }
      await sleep(250);
    }
    progress.fail('sage is still starting');
    throw new CliError(`sage (pid ${pid}) is still starting after ${Math.round(opts.timeoutMs / 1000)}s; it keeps going in the background — see: sage inference logs`);
  } finally {
    child.unref(); // let this command exit; the control plane runs on
  }
}
