// `sage gateway start|stop|status` (F-403): the RAG gateway runs as its own process, started from its own bin
// (`sage-gateway`). The CLI never imports @sage/gateway; it finds the executable ($SAGE_GATEWAY_BIN, a
// node_modules/.bin above this package, or PATH) and says plainly when it is not installed.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { resolveApiBase } from '../api';
import { CliError, ExitCode, usageError } from '../errors';
import type { SageHome } from '../home';
import { printJson } from '../output';
import { createProgress } from '../progress';
import { isAlive } from '../server-state';
import { intArg, portArg, type Context } from './shared';

const GATEWAY_BIN = 'sage-gateway';
export const DEFAULT_GATEWAY_PORT = 8888;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** $SAGE_GATEWAY_BIN, else node_modules/.bin directories from this package upwards (workspace root included), then PATH. */
export function findGatewayBin(env: NodeJS.ProcessEnv = process.env, from = __dirname): string | undefined {
  const explicit = env.SAGE_GATEWAY_BIN?.trim();
  if (explicit) return isExecutable(explicit) ? path.resolve(explicit) : undefined;
  const dirs: string[] = [];
  for (let dir = from; ; dir = path.dirname(dir)) {
    dirs.push(path.join(dir, 'node_modules', '.bin'));
    if (path.dirname(dir) === dir) break;
  }
  dirs.push(...(env.PATH ?? '').split(path.delimiter).filter(Boolean));
  return dirs.map((d) => path.join(d, GATEWAY_BIN)).find(isExecutable);
}

interface GatewayRecord {
  pid: number;
  port: number;
  host: string;
  startedAt: string;
}

function readRecord(home: SageHome): GatewayRecord | undefined {
  try {
    const rec = JSON.parse(fs.readFileSync(home.gatewayPidFile, 'utf8')) as GatewayRecord;
    if (isAlive(rec.pid)) return rec;
    fs.rmSync(home.gatewayPidFile, { force: true });
  } catch {
    // none
  }
  return undefined;
}

function listening(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

interface StartFlags extends RetrievalFlags {
  port: number;
  host: string;
  apiBase?: string;
  timeout: number;
}

/** Hybrid retrieval's settings; each one left out is the gateway's default for the embedder it finds. */
interface RetrievalFlags {
  retrieval?: string;
  vectorWeight?: number;
  fulltextWeight?: number;
  rrfK?: number;
}

function nonNegativeArg(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of 0 or more');
  return n;
}

/** The gateway's own flags for the retrieval settings given (the gateway validates them again). */
function retrievalArgs(flags: RetrievalFlags): string[] {
  if (flags.vectorWeight === 0 && flags.fulltextWeight === 0) throw usageError('--vector-weight and --fulltext-weight cannot both be 0');
  return [
    ...(flags.retrieval !== undefined ? ['--retrieval', flags.retrieval] : []),
    ...(flags.vectorWeight !== undefined ? ['--vector-weight', String(flags.vectorWeight)] : []),
    ...(flags.fulltextWeight !== undefined ? ['--fulltext-weight', String(flags.fulltextWeight)] : []),
    ...(flags.rrfK !== undefined ? ['--rrf-k', String(flags.rrfK)] : []),
  ];
}

async function start(ctx: Context, extra: string[], flags: StartFlags): Promise<number> {
  const { home, out } = ctx;
  const retrieval = retrievalArgs(flags);
  const bin = findGatewayBin();
  if (!bin) {
    const where = process.env.SAGE_GATEWAY_BIN?.trim() ? `SAGE_GATEWAY_BIN=${process.env.SAGE_GATEWAY_BIN} is not an executable` : `no ${GATEWAY_BIN} executable in node_modules/.bin or on PATH`;
    throw new CliError(`sage gateway is not installed (${where})`);
  }
  const existing = readRecord(home);
  if (existing) throw new CliError(`the gateway is already running (pid ${existing.pid}, http://${existing.host}:${existing.port})`, ExitCode.ALREADY_RUNNING);
  fs.mkdirSync(path.dirname(home.gatewayLogFile), { recursive: true });
  fs.mkdirSync(path.dirname(home.gatewayPidFile), { recursive: true });
  const fd = fs.openSync(home.gatewayLogFile, 'a');
  const controlPlane = resolveApiBase(home, flags.apiBase);
  const child = spawn(bin, ['--port', String(flags.port), '--host', flags.host, ...retrieval, ...extra], {
    detached: true,
    stdio: ['ignore', fd, fd],
    // The gateway finds its models through the lower-layer clients; point them at this control plane.
    env: { ...process.env, SAGE_HOME: home.root, SAGE_UNIFIED_BASE_URL: `${controlPlane}/v1` },
  });
  fs.closeSync(fd);
  let exitCode: number | null | undefined;
  child.on('exit', (code) => {
    exitCode = code;
  });
  child.unref();
  const pid = child.pid!;
  fs.writeFileSync(home.gatewayPidFile, JSON.stringify({ pid, port: flags.port, host: flags.host, startedAt: new Date().toISOString() }));
  const progress = createProgress(out, `starting the gateway (pid ${pid})…`);
  const deadline = Date.now() + flags.timeout * 1000;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      fs.rmSync(home.gatewayPidFile, { force: true });
      progress.fail('the gateway did not start');
      throw new CliError(`the gateway exited with code ${exitCode}; see ${home.gatewayLogFile}`);
    }
    if (await listening(flags.port, flags.host)) {
      progress.succeed(`the gateway is running (pid ${pid}) at http://${flags.host}:${flags.port} — control plane ${controlPlane}`);
      return ExitCode.OK;
    }
    await sleep(250);
  }
  progress.fail('the gateway is still starting');
  throw new CliError(`the gateway (pid ${pid}) is not listening on ${flags.port} after ${flags.timeout}s; see ${home.gatewayLogFile}`);
}

/** To its process group (it was started detached), else to the process alone. */
function signal(pid: number, sig: NodeJS.Signals): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, sig);
      return;
    } catch {
      // try the next
    }
  }
}

async function stop(ctx: Context): Promise<number> {
  const rec = readRecord(ctx.home);
  if (!rec) throw new CliError('the gateway is not running', ExitCode.NOT_RUNNING);
  signal(rec.pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (isAlive(rec.pid) && Date.now() < deadline) await sleep(100);
  const killed = isAlive(rec.pid);
  if (killed) signal(rec.pid, 'SIGKILL');
  fs.rmSync(ctx.home.gatewayPidFile, { force: true });
  ctx.out.write(`the gateway ${killed ? 'did not stop within 30s and was killed' : 'stopped'} (pid ${rec.pid})\n`);
  return ExitCode.OK;
}

function status(ctx: Context, flags: { json?: boolean }): number {
  const rec = readRecord(ctx.home);
  if (!rec) {
    const message = `the gateway is not running${findGatewayBin() ? '' : ' (and not installed)'}`;
    // For a script, not running is an error like any other: JSON on stderr, exit 3, nothing on stdout.
    if (flags.json) throw new CliError(message, ExitCode.NOT_RUNNING);
    ctx.out.write(`${message}\n`);
    return ExitCode.NOT_RUNNING;
  }
  if (flags.json) printJson(ctx.out, { running: true, ...rec, url: `http://${rec.host}:${rec.port}` });
  else ctx.out.write(`the gateway is running (pid ${rec.pid}) at http://${rec.host}:${rec.port}\n`);
  return ExitCode.OK;
}

export function gatewayCommand(ctx: Context): Command {
  const gateway = new Command('gateway').description('the RAG gateway, run as its own process');
  gateway
    .command('start')
    .description('start the gateway in the background')
    .option('--port <port>', 'port to listen on', portArg, DEFAULT_GATEWAY_PORT)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--api-base <url>', 'the control plane it uses (default: the running one)')
    .option('--timeout <sec>', 'how long to wait for it to listen', intArg, 60)
    .addOption(new Option('--retrieval <mode>', 'which retrievers answer: both fused (default), or one alone').choices(['hybrid', 'vector', 'fulltext']))
    .option('--vector-weight <w>', 'weight of the vector ranking in the fusion (default 1)', nonNegativeArg)
    .option('--fulltext-weight <w>', 'weight of the full-text ranking in the fusion (default: 2 with a lexical embedder such as sim-embedding, else 1)', nonNegativeArg)
    .option('--rrf-k <k>', 'k of reciprocal rank fusion (default: 10 with a lexical embedder, else 60)', nonNegativeArg)
    .argument('[gateway-options...]', 'more options for sage-gateway itself, after -- (e.g. -- --llm-model qwen)')
    .action(async (extra: string[], flags: StartFlags) => {
      ctx.exitCode = await start(ctx, extra, flags);
    });
  gateway
    .command('stop')
    .description('stop the gateway')
    .action(async () => {
      ctx.exitCode = await stop(ctx);
    });
  gateway
    .command('status')
    .description('whether the gateway runs, and where')
    .option('--json', 'machine-readable output')
    .action((flags: { json?: boolean }) => {
      ctx.exitCode = status(ctx, flags);
    });
  return gateway;
}
