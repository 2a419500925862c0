// A minimal launcher of bare sim engines for tests and benchmarks of the control plane: spawn as a child
// process on port 0, wait for the {"event":"listening","port":N} line, keep the pid, stop with SIGTERM then
// SIGKILL. No PortAllocator, health checks or restarts, so product code never uses it: the server and the
// embedded client start engines through EngineLifecycleManager (ControlPlaneRuntime), which has all three.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { simEngineBinPath } from '../engines/kinds/sim-engine-bin';

export type SimEngineKind = 'sim-llm' | 'sim-embedding';

export interface LaunchOptions {
  kind: SimEngineKind;
  model: string;
  role?: 'general' | 'prefilling' | 'decoding';
  /** Wall seconds per model second: 0.1 runs the simulation ten times faster than the modelled GPU. */
  timeScale?: number;
  /** Engine log level on its stderr (default warn). */
  logLevel?: string;
  host?: string;
  extraArgs?: string[];
  /** How long to wait for the listening line, ms (default 15 000). */
  startTimeoutMs?: number;
}

export interface LaunchedEngine {
  kind: SimEngineKind;
  model: string;
  pid: number;
  host: string;
  port: number;
  /** OpenAI base URL, e.g. http://127.0.0.1:PORT/v1 */
  baseUrl: string;
  readonly exited: boolean;
  stop(graceMs?: number): Promise<void>;
}

/** The `sage-engine` bin of @sage/sim-engines, which this launcher runs with node. */
export function simEngineMain(): string {
  return simEngineBinPath();
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort against orphans if the parent exits without stopping its engines.
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/** Pids of engines this process started and that are still running. */
export function launchedPids(): number[] {
  return [...live].map((c) => c.pid).filter((p): p is number => p !== undefined);
}

export async function launchSimEngine(opts: LaunchOptions): Promise<LaunchedEngine> {
  const main = simEngineMain();
  if (!existsSync(main)) throw new Error(`sim engine entry ${main} not found: build @sage/sim-engines first`);
  const host = opts.host ?? '127.0.0.1';
  const args = [main, opts.kind, '--port', '0', '--host', host, '--model', opts.model];
  if (opts.role && opts.kind === 'sim-llm') args.push('--role', opts.role);
  if (opts.timeScale !== undefined) args.push('--time-scale', String(opts.timeScale));
  args.push('--log-level', opts.logLevel ?? 'warn');
  args.push(...(opts.extraArgs ?? []));

  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  installExitHook();
  live.add(child);
  let exited = false;
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 4000) stderr += d.toString();
  });
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      live.delete(child);
      resolve();
    });
  });

  const port = await new Promise<number>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => done(new Error(`${opts.kind} did not report listening within ${opts.startTimeoutMs ?? 15000} ms`)), opts.startTimeoutMs ?? 15_000);
    const onExit = (code: number | null) => done(new Error(`${opts.kind} exited (code ${code}) before listening: ${stderr.trim().slice(0, 500)}`));
    function done(err: Error | undefined, p?: number) {
      clearTimeout(timer);
      child.off('exit', onExit);
      rl.removeAllListeners('line');
      if (err) reject(err);
      else resolve(p as number);
      // Keep draining stdout so the child never blocks on a full pipe.
      child.stdout?.resume();
    }
    rl.on('line', (line) => {
      try {
        const ev = JSON.parse(line) as { event?: string; port?: number };
        if (ev.event === 'listening' && typeof ev.port === 'number') done(undefined, ev.port);
      } catch {
        /* a log line, not the listening event */
      }
    });
    child.once('exit', onExit);
    child.once('error', (e) => done(e));
  }).catch(async (err: unknown) => {
    child.kill('SIGKILL');
    await exitedPromise;
    throw err;
  });

  const stop = async (graceMs = 3000): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exitedPromise;
    clearTimeout(timer);
  };
  return {
    kind: opts.kind,
    model: opts.model,
    pid: child.pid as number,
    host,
    port,
    baseUrl: `http://${host}:${port}/v1`,
    get exited() {
      return exited;
    },
    stop,
  };
}
