// Starts a built-in engine as a real child process (the compiled dist entry, as the lifecycle manager
// does) on a free port, and reads the port from its {"event":"listening"} line.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

export const MAIN = path.resolve(__dirname, '../dist/main.js');

export interface EngineProcess {
  child: ChildProcess;
  port: number;
  url: string;
  /** The listening line as printed. */
  listening: Record<string, unknown>;
  stderr: () => string;
  stop: () => Promise<number | null>;
}

export async function startEngine(kind: 'sim-llm' | 'sim-embedding', args: string[], timeoutMs = 20_000): Promise<EngineProcess> {
  const child = spawn(process.execPath, [MAIN, kind, '--port', '0', '--log-level', 'warn', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const listening = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} did not start in ${timeoutMs} ms: ${err}`)), timeoutMs);
    const lines = readline.createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const msg = JSON.parse(line) as Record<string, unknown>;
        if (msg.event === 'listening') {
          clearTimeout(timer);
          resolve(msg);
        }
      } catch {
        // not a JSON line: ignore
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${kind} exited with ${code} before listening: ${err}`));
    });
  });
  const port = listening.port as number;
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    listening,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** POST JSON (or raw text) and return status and parsed body. */
export async function post(url: string, body: unknown, contentType = 'application/json'): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** The shape every error must have. */
export function expectOpenAIError(body: unknown, status: number, got: number): void {
  expect(got).toBe(status);
  const e = (body as { error?: Record<string, unknown> }).error;
  expect(e).toBeDefined();
  expect(typeof e!.message).toBe('string');
  expect((e!.message as string).length).toBeGreaterThan(0);
  expect(typeof e!.type).toBe('string');
  expect('param' in e!).toBe(true);
  expect('code' in e!).toBe(true);
}
