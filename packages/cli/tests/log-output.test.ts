// The foreground server's log (issue 16): JSON lines when stdout is not a terminal, readable lines in one (and JSON
// there with --log-format json), one access line per request, SAGE_LOG_LEVEL and --log-level honoured, and every line
// written out by the time it exits.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort, killAll, SAGE_BIN, sage, tempHome, waitGone, type StatusJson } from './helpers';

jest.setTimeout(180_000);

const seen = new Set<number>();
const homes: string[] = [];

afterAll(async () => {
  for (const home of homes) await sage(['inference', 'stop', '--force'], { home });
  killAll(seen);
  for (const home of homes) fs.rmSync(home, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  home: string;
  url: string;
  output: () => string;
  status: StatusJson;
}

/** Starts `sage inference start` in the foreground (`command` wraps it, e.g. in a terminal) and waits for its banner. */
async function startForeground(args: string[], env: NodeJS.ProcessEnv, command?: (argv: string[]) => [string, string[]]): Promise<Started> {
  const { home, configFile } = tempHome(); // its settings file says logLevel: info
  homes.push(home);
  const argv = [process.execPath, SAGE_BIN, 'inference', 'start', '--port', String(await freePort()), '--config', configFile, ...args];
  const [file, fileArgs] = command ? command(argv) : [argv[0]!, argv.slice(1)];
  const child = spawn(file, fileArgs, { env: { ...process.env, SAGE_HOME: home, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (c: Buffer) => (text += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (text += c.toString('utf8')));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /sage is serving an OpenAI-compatible API at (\S+)\/v1/.exec(text);
      if (m) {
        clearInterval(timer);
        resolve(m[1]!);
      } else if (child.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`exited ${child.exitCode}:\n${text}`));
      }
    }, 50);
  });
  const status = JSON.parse((await sage(['inference', 'status', '--json'], { home })).stdout) as StatusJson;
  [status.pid, ...status.engines.map((e) => e.pid!)].forEach((p) => seen.add(p));
  return { child, home, url, output: () => text, status };
}

/** SIGINT to the server itself (not to a wrapper), then its exit and its engines'. */
async function stopForeground(s: Started): Promise<void> {
  const exited = new Promise<void>((resolve) => (s.child.exitCode !== null ? resolve() : s.child.once('exit', () => resolve())));
  process.kill(s.status.pid, 'SIGINT');
  await exited;
  expect(await waitGone([s.status.pid, ...s.status.engines.map((e) => e.pid!)], 10_000)).toEqual([]);
}

async function chat(url: string, requestId: string): Promise<void> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify({ model: 'sage-sim-llm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 }),
  });
  expect(res.status).toBe(200);
  await res.json();
}

const jsonLines = (text: string) => text.split(/\r?\n/).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string; url?: string; clientRequestId?: string });

test('not a terminal: JSON lines, one access line per request, all written by exit', async () => {
  const s = await startForeground([], {});
  for (const id of ['a-1', 'a-2', 'a-3']) await chat(s.url, id);
  await stopForeground(s);
  const lines = jsonLines(s.output());
  // `status --json` asked /health too: one line for it, one per chat.
  expect(lines.filter((l) => l.msg === 'request completed' && l.url === '/v1/chat/completions').map((l) => l.clientRequestId)).toEqual(['a-1', 'a-2', 'a-3']);
  expect(lines.filter((l) => l.msg === 'request completed' && l.url === '/health')).toHaveLength(1);
  expect(lines.at(-1)!.msg).toBe('sage stopped');
  const file = jsonLines(fs.readFileSync(path.join(s.home, 'logs', 'sage.log'), 'utf8'));
  expect(file.at(-1)!.msg).toBe('sage stopped');
});

test('SAGE_LOG_LEVEL=warn writes no info line (over the settings file), and --log-level overrides it', async () => {
  const s = await startForeground([], { SAGE_LOG_LEVEL: 'warn' });
  for (const id of ['w-1', 'w-2']) await chat(s.url, id);
  await stopForeground(s);
  expect(jsonLines(s.output()).filter((l) => l.level < 40)).toEqual([]);
  expect(jsonLines(fs.readFileSync(path.join(s.home, 'logs', 'sage.log'), 'utf8')).filter((l) => l.level < 40)).toEqual([]);

  const bad = await sage(['inference', 'start', '--port', '0'], { home: s.home, env: { SAGE_LOG_LEVEL: 'loud' } });
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/SAGE_LOG_LEVEL: expected one of .*got "loud"/);

  const flag = await startForeground(['--log-level', 'info'], { SAGE_LOG_LEVEL: 'warn' });
  await chat(flag.url, 'f-1');
  await stopForeground(flag);
  expect(jsonLines(flag.output()).some((l) => l.msg === 'request completed' && l.clientRequestId === 'f-1')).toBe(true);
});

// util-linux `script` gives the server a pseudo-terminal for stdout.
const hasScript = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const inTerminal = (argv: string[]): [string, string[]] => ['script', ['-qfec', argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' '), '/dev/null']];

(hasScript ? test : test.skip)('in a terminal: readable lines, or JSON with --log-format json', async () => {
  const pretty = await startForeground([], {}, inTerminal);
  await chat(pretty.url, 't-1');
  await stopForeground(pretty);
  const lines = pretty.output().split(/\r?\n/);
  expect(lines.some((l) => /^\d\d:\d\d:\d\d INFO {2}request completed .*req="POST \/v1\/chat\/completions" reqId=req-\S+ status=200 .*clientRequestId=t-1/.test(l))).toBe(true);
  expect(lines.filter((l) => l.startsWith('{'))).toEqual([]);
  // The log file stays JSON whatever the terminal shows.
  expect(jsonLines(fs.readFileSync(path.join(pretty.home, 'logs', 'sage.log'), 'utf8')).some((l) => l.clientRequestId === 't-1')).toBe(true);

  const json = await startForeground(['--log-format', 'json'], {}, inTerminal);
  await chat(json.url, 't-2');
  await stopForeground(json);
  expect(jsonLines(json.output()).some((l) => l.msg === 'request completed' && l.clientRequestId === 't-2')).toBe(true);
  expect(json.output().split(/\r?\n/).some((l) => /^\d\d:\d\d:\d\d INFO /.test(l))).toBe(false);
});
