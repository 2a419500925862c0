// Runs the BUILT `sage` bin as a child process, as a person or a script would, with its own SAGE_HOME.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const SAGE_BIN = path.resolve(__dirname, '..', 'bin', 'sage.js');

if (!fs.existsSync(path.resolve(__dirname, '..', 'dist', 'bin', 'sage.js'))) {
  throw new Error('packages/cli is not built: run `npx tsc -b tsconfig.lib.json` in packages/cli (the Nx test target builds first)');
}

export interface SageResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function sage(args: string[], opts: { home: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<SageResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [SAGE_BIN, ...args],
      {
        env: { ...process.env, SAGE_HOME: opts.home, SAGE_API_BASE: '', ...opts.env },
        timeout: opts.timeoutMs ?? 120_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** A port nothing listens on right now (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A temp SAGE_HOME with a config placing engine ports in a random block, so parallel runs do not collide. */
export function tempHome(extra: Record<string, unknown> = {}): { home: string; configFile: string } {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sage-cli-test-'));
  const enginePortBase = 10_100 + Math.floor(Math.random() * 90) * 100; // below the ephemeral ports (32768+), above 10080 (fetch refuses it)
  const configFile = path.join(home, 'test-config.yaml');
  const lines = Object.entries({ enginePortBase, logLevel: 'info', ...extra }).map(([k, v]) => `${k}: ${JSON.stringify(v)}`);
  fs.writeFileSync(configFile, `${lines.join('\n')}\n`);
  return { home, configFile };
}

/** Running: kill(pid, 0) succeeds and it is not a zombie (exited, waiting for init to reap it, which can lag). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return true;
  }
}

export async function waitGone(pids: number[], timeoutMs = 5000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && pids.some(alive)) await new Promise((r) => setTimeout(r, 50));
  return pids.filter(alive);
}

/** Last resort in afterAll: kill whatever a test left (server and engines lead their own process groups). */
export function killAll(pids: Iterable<number>): void {
  for (const pid of pids) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

export interface StatusJson {
  running: boolean;
  pid: number;
  url: string;
  apiBase: string;
  health: string;
  engines: { id: string; state: string; model: string; kind: string; port: number; pid?: number }[];
}
