// `sage inference start` in the foreground: this process is the control plane. It claims the pid file, listens
// first (so /health can report engines while they start), then starts the engines of the preset, and on
// SIGINT/SIGTERM drains requests, stops its engines and removes its footprint from SAGE_HOME.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { publicSettings, resolveStartPreset, startControlPlaneServer, type Preset, type RunningControlPlane, type SettingSources } from '@sage/llm-core';
import pino, { type Logger } from 'pino';
import { enginePortRanges, type SageConfig } from './config';
import { CliError, ExitCode, oneLine, usageError } from './errors';
import type { SageHome } from './home';
import { LineBatch, type LineSink } from './log-batch';
import { formatLogLine, type Out } from './output';
import { claimPidFile, clearServer, writeServer, type ServerRecord } from './server-state';
import { cliVersion } from './version';

/** Set in the environment of the detached process a background start spawns. */
export const BACKGROUND_ENV = 'SAGE_CLI_BACKGROUND';

/** The preset to start (see resolveStartPreset); a bad preset is a usage error. */
export function presetFor(config: SageConfig): Preset | undefined {
  try {
    return resolveStartPreset(config);
  } catch (err) {
    throw usageError(`preset: ${oneLine(err)}`);
  }
}

interface ServerLog {
  log: Logger;
  /** Writes out what the async destinations still hold, as far as can be done at once (on 'exit'). */
  flush(): void;
  /**
   * Hands on the gathered lines and resolves once every destination has written them (at most `DRAIN_WAIT_MS`):
   * an async destination's write runs on the thread pool, so a line handed on is not yet in the file when the
   * banner is printed or the process exits, and flushSync() does not wait for a write already under way.
   */
  written(): Promise<void>;
}

const DRAIN_WAIT_MS = 2000;

/** Resolves when `dest` has written all it holds ('drain'), or after `DRAIN_WAIT_MS` whatever happens. */
function drained(dest: { once(event: 'drain', fn: () => void): unknown; off(event: 'drain', fn: () => void): unknown }): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      dest.off('drain', done);
      resolve();
    };
    const timer = setTimeout(done, DRAIN_WAIT_MS);
    timer.unref();
    dest.once('drain', done);
  });
}

/**
 * The server's log: pino's async destinations (lines are buffered and written off the request path), to the log
 * file and to stdout — readable lines in a terminal, JSON lines when stdout is not one or with --log-format json.
 * Each line is serialized once; the lines of one event-loop turn reach each destination together (log-batch.ts).
 */
function createLogger(config: SageConfig, home: SageHome, out: Out, background: boolean): ServerLog {
  const level = config.logLevel;
  // Buffer mode: the batch hands them bytes it encoded once for both (log-batch.ts).
  const stdout = pino.destination({ dest: 1, sync: false, contentMode: 'buffer' });
  type Dest = ReturnType<typeof pino.destination>;
  const serverLog = (sinks: LineSink[], dests: Dest[]): ServerLog => {
    const batch = new LineBatch(sinks);
    const flush = () => {
      batch.flush();
      for (const d of dests) {
        try {
          d.flushSync();
        } catch {
          // not open yet, or already closed: nothing buffered to lose
        }
      }
    };
    // Whatever way the process ends, the lines of its last turn are written out too.
    process.once('exit', flush);
    // Each destination was handed the lines (a write started or queued), so each ends that run with a 'drain'.
    const written = async (): Promise<void> => {
      if (batch.flush()) await Promise.all(dests.map(drained));
    };
    return { log: pino({ name: 'sage', level }, batch), flush, written };
  };
  // In the background stdout already is the log file.
  if (background) return serverLog([bytesSink(stdout)], [stdout]);
  fs.mkdirSync(path.dirname(home.logFile), { recursive: true });
  const file = pino.destination({ dest: home.logFile, append: true, sync: false, contentMode: 'buffer' });
  const pretty = config.logFormat === 'pretty' || (config.logFormat === undefined && out.isTTY);
  const toStdout: LineSink = pretty ? { write: (chunk: Buffer) => bytesSink(stdout).write(Buffer.from(prettyLines(chunk.toString('utf8')), 'utf8')), copies: true } : bytesSink(stdout);
  return serverLog([toStdout, bytesSink(file)], [stdout, file]);
}

/**
 * A destination opened in buffer mode, which takes bytes (sonic-boom's types declare strings only). It keeps the
 * chunks it is handed until written and reports each fs.write's bytes ('write'): the batch reuses its buffers then.
 */
function bytesSink(dest: { write(chunk: string): boolean }): LineSink {
  return dest as unknown as LineSink;
}

/** JSON lines (one or more, each ending in a newline) as readable lines. */
function prettyLines(chunk: string): string {
  let text = '';
  for (const line of chunk.split('\n')) if (line.trim() !== '') text += `${formatLogLine(line.trimEnd())}\n`;
  return text;
}

export async function runForeground(config: SageConfig, opts: { home: SageHome; configSource: string; sources: SettingSources; out: Out }): Promise<never> {
  const { home, out } = opts;
  const background = process.env[BACKGROUND_ENV] === '1';
  const preset = presetFor(config);
  const claim = claimPidFile(home);
  if (!claim.ok) throw new CliError(`already running (pid ${claim.pid}); see: sage inference status`, ExitCode.ALREADY_RUNNING);

  const { log, flush, written } = createLogger(config, home, out, background);
  let running: RunningControlPlane | undefined;
  let stopping = false;
  const record = (state: ServerRecord['state']): void => {
    if (!running) return;
    writeServer(home, {
      pid: process.pid,
      url: running.url,
      state,
      startedAt,
      background,
      logFile: home.logFile,
      configSource: opts.configSource,
      config: publicSettings({ ...config, port: running.port }),
      sources: opts.sources,
    });
  };
  const startedAt = new Date().toISOString();

  const shutdown = async (why: string, code: number): Promise<never> => {
    stopping = true;
    record('stopping');
    log.info({ reason: why }, 'shutting down: draining requests and stopping engines');
    try {
      await running?.close(config.drainTimeoutSec * 1000);
      log.info('sage stopped');
    } catch (err) {
      log.error({ err }, 'shutdown failed');
      code = ExitCode.FAILURE;
    }
    clearServer(home, process.pid);
    await written();
    flush();
    process.exit(code);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'already stopping (engines are being stopped); use `sage inference stop --force` to kill');
      return;
    }
    void shutdown(signal, ExitCode.OK);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);

  try {
    running = await startControlPlaneServer({
      // Every setting, resolved (defaults < preset < file < env < flags) and passed whole.
      settings: config,
      settingSources: opts.sources,
      preset: preset ?? false,
      // Listen first, so that /health shows the engines coming up and /health/ready turns 200 once all run.
      deferPreset: true,
      logger: log,
      version: cliVersion(),
      runtime: {
        sageHome: home.root,
        portRanges: enginePortRanges(config.enginePortBase),
        engineStartupTimeoutMs: config.engineStartupTimeoutSec * 1000,
      },
    });
  } catch (err) {
    clearServer(home, process.pid);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new CliError(`port ${config.port} on ${config.host} is already in use (another server?); choose one with --port`);
    if (code === 'EACCES') throw new CliError(`not allowed to listen on ${config.host}:${config.port}`);
    throw new CliError(`the control plane failed to start: ${oneLine(err)}`);
  }
  record('starting');
  log.info({ url: running.url, pid: process.pid }, 'sage control plane listening');

  if (preset && !stopping) {
    // Engines adopted from an earlier run (the same preset ids, still healthy) are kept rather than started twice.
    const applied = await running.ready;
    if (stopping) return new Promise<never>(() => undefined); // shutdown() exits
    if (applied && !applied.ok) {
      log.error({ engine: applied.failed?.name, error: applied.failed?.error }, 'an engine failed to start');
      await running.close(0).catch(() => undefined);
      clearServer(home, process.pid);
      throw new CliError(`engine ${applied.failed?.name} of preset ${preset.name} failed to start: ${oneLine(applied.failed?.error)}`);
    }
  }
  if (stopping) return new Promise<never>(() => undefined);
  // The banner is the promise that requests succeed: only once every engine of the preset runs and is registered.
  const readiness = running.runtime.readinessStatus();
  if (!readiness.ready) log.warn({ waitingFor: readiness.waitingFor }, 'engines are not all running');
  record('running');
  const instances = running.runtime.manager.getInstances();
  const models = instances.flatMap((i) => i.models);
  log.info({ url: `${running.url}/v1`, models }, 'sage control plane ready');
  if (!background) {
    await written(); // the log lines above are in the log file before the banner
    const chatModel = instances.find((i) => i.type !== 'EMBEDDING')?.models[0] ?? models[0] ?? 'MODEL';
    out.write(
      `\nsage is serving an OpenAI-compatible API at ${running.url}/v1  (Ctrl-C stops it)\n` +
        `try:\n  curl ${running.url}/v1/chat/completions -H 'content-type: application/json' \\\n` +
        `    -d '{"model":"${chatModel}","messages":[{"role":"user","content":"Hello!"}]}'\n\n`,
    );
  }
  return new Promise<never>(() => undefined); // the server keeps the process alive until a signal
}
