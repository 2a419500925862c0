// `sage inference start|stop|status|logs|config` (F-401).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { ApiClient, type Health } from '../api';
import { startInBackground } from '../background';
import { LOG_FORMATS, LOG_LEVELS, publicSettings, type SettingSources } from '@sage/llm-core';
import { CONFIG_KEYS, parseSetFlags, resolveConfig, setConfigValue, type SageConfig } from '../config';
import { CliError, ExitCode } from '../errors';
import { presetFor, runForeground } from '../foreground';
import type { SageHome } from '../home';
import { duration, formatLogLine, printJson, table } from '../output';
import { createProgress } from '../progress';
import { clearServer, enginePidsOf, findRunning, isAlive, type ServerRecord } from '../server-state';
import { collect, intArg, portArg, type Context } from './shared';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface StartFlags {
  llmModel?: string;
  embeddingModel?: string;
  llmBackend?: string[];
  embeddingBackend?: string[];
  preset?: string;
  port?: number;
  host?: string;
  schedulingPolicy?: string;
  router?: string;
  background?: boolean;
  config?: string;
  logLevel?: string;
  pd?: boolean;
  set?: string[];
  stateStore?: string;
  logFormat?: string;
}

/** The args given after `inference start`, to hand to the detached process (minus --background). */
function startArgs(argv: readonly string[]): string[] {
  const i = argv.findIndex((a, k) => a === 'start' && argv[k - 1] === 'inference');
  return argv.slice(i + 1).filter((a) => a !== '--background');
}

function notRunning(home: SageHome): CliError {
  return new CliError(`not running (SAGE_HOME ${home.root}); start it with: sage inference start --background`, ExitCode.NOT_RUNNING);
}

async function start(ctx: Context, flags: StartFlags): Promise<number> {
  const { home, out } = ctx;
  const { config, source, sources } = resolveConfig({
    configFile: flags.config,
    savedConfigFile: home.configFile,
    flags: {
      ...parseSetFlags(flags.set),
      pdSeparation: flags.pd,
      host: flags.host,
      port: flags.port,
      schedulingPolicy: flags.schedulingPolicy,
      router: flags.router,
      preset: flags.preset,
      llmModel: flags.llmModel,
      embeddingModel: flags.embeddingModel,
      llmBackends: flags.llmBackend,
      embeddingBackends: flags.embeddingBackend,
      logLevel: flags.logLevel,
      logFormat: flags.logFormat,
      // The environment sits between the settings file and the flag (a container sets it).
      stateStore: flags.stateStore,
    },
  });
  const existing = findRunning(home);
  if (existing) {
    throw new CliError(`already running (pid ${existing.pid}${existing.url ? `, ${existing.url}/v1` : ', starting'}); stop it first with: sage inference stop`, ExitCode.ALREADY_RUNNING);
  }
  const preset = presetFor(config); // a bad preset is a usage error before anything starts
  if (!flags.background) return runForeground(config, { home, configSource: source, sources, out });

  const engines = preset?.engines.length ?? 0;
  const timeoutMs = (config.engineStartupTimeoutSec * Math.max(1, engines) + 30) * 1000;
  const { url, health } = await startInBackground(startArgs(ctx.argv), { home, out, timeoutMs, expectedEngines: engines });
  const backends = health.instances.filter((i) => !health.engines.some((e) => e.id === i.id));
  const pd = config.pdSeparation ? `  pd           prefill/decode separation on (prompts of ${config.pdMinInputTokens}+ tokens)\n` : '';
  out.write(
    `\n  OpenAI API   ${url}/v1\n` +
      `  engines      ${health.engines.length ? health.engines.map((e) => `${e.id} (${e.model})`).join(', ') : 'none'}\n` +
      (backends.length ? `  backends     ${backends.map((i) => `${i.id} (${i.models.join(', ')})`).join(', ')}\n` : '') +
      pd +
      `  logs         ${home.logFile}\n` +
      `  try          curl ${url}/v1/models\n` +
      `  next         sage inference status · sage llm engine list · sage inference stop\n`,
  );
  return ExitCode.OK;
}

async function stop(ctx: Context, flags: { force?: boolean; timeout: number }): Promise<number> {
  const { home, out } = ctx;
  const rec = findRunning(home);
  if (!rec) throw notRunning(home);
  const pid = rec.pid;
  if (flags.force) {
    const engines = enginePidsOf(home, pid);
    // The server and each engine lead their own process groups; kill the groups so no grandchild survives.
    for (const p of [pid, ...engines]) killGroup(p, 'SIGKILL');
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && [pid, ...engines].some(isAlive)) await sleep(50);
    clearServer(home, pid);
    const left = [pid, ...engines].filter(isAlive);
    if (left.length) throw new CliError(`killed, but processes ${left.join(', ')} are still there`);
    out.write(`killed sage (pid ${pid}) and ${engines.length} engine process${engines.length === 1 ? '' : 'es'}\n`);
    return ExitCode.OK;
  }
  const engineCount = rec.url ? ((await new ApiClient(rec.url).health(2000).catch(() => undefined))?.engines.length ?? 0) : 0;
  const progress = createProgress(out, `stopping sage (pid ${pid}): draining requests, stopping ${engineCount} engine${engineCount === 1 ? '' : 's'}…`);
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // gone already
  }
  const deadline = Date.now() + flags.timeout * 1000;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) {
    progress.fail(`sage (pid ${pid}) is still stopping`);
    throw new CliError(`sage (pid ${pid}) did not stop within ${flags.timeout}s; to kill it: sage inference stop --force`);
  }
  clearServer(home, pid);
  progress.succeed(`sage stopped (pid ${pid}, ${engineCount} engine${engineCount === 1 ? '' : 's'} stopped)`);
  return ExitCode.OK;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // gone
    }
  }
}

/** Price and topology of an instance, for the status table ('-' when none is declared). */
function placementOf(health: Health, id: string): string {
  const i = health.instances.find((x) => x.id === id);
  if (!i) return '-';
  const parts = [i.costPerHour !== undefined ? `${i.costPerHour}/h` : undefined, i.machine && `machine=${i.machine}`, i.rack && `rack=${i.rack}`, i.nvlinkGroup && `nvlink=${i.nvlinkGroup}`].filter(Boolean);
  return parts.length ? parts.join(' ') : '-';
}

function typeOf(health: Health, id: string): string {
  return health.instances.find((x) => x.id === id)?.type ?? '-';
}

function loadOf(health: Health, id: string): string {
  const inst = health.instances.find((i) => i.id === id);
  if (!inst) return '-';
  return `${inst.load.activeRequests} active, ${inst.load.queuedRequests} queued`;
}

export function statusJson(rec: ServerRecord | { pid: number; state: 'starting'; url?: undefined }, health?: Health) {
  const engineIds = new Set(health?.engines.map((e) => e.id));
  return {
    running: true,
    state: rec.state,
    pid: rec.pid,
    url: rec.url ?? null,
    apiBase: rec.url ? `${rec.url}/v1` : null,
    startedAt: 'startedAt' in rec ? rec.startedAt : null,
    health: health?.status ?? null,
    ready: health?.ready ?? null,
    policy: health?.policy ?? null,
    router: health?.router ?? null,
    queueLength: health?.queueLength ?? null,
    engines: (health?.engines ?? []).map((e) => {
      const inst = health?.instances.find((i) => i.id === e.id);
      // The scheduling view of the engine: type, concurrency, price, topology (never its API key).
      const { id: _id, models: _models, health: _health, load, ...scheduling } = inst ?? ({} as Partial<NonNullable<typeof inst>>);
      return { ...e, ...scheduling, load: load ?? null };
    }),
    backends: (health?.instances ?? []).filter((i) => !engineIds.has(i.id)),
  };
}

async function status(ctx: Context, flags: { json?: boolean }): Promise<number> {
  const { home, out } = ctx;
  const rec = findRunning(home);
  if (!rec) {
    // For a script, not running is an error like any other: JSON on stderr, exit 3, nothing on stdout.
    if (flags.json) throw notRunning(home);
    out.write(`sage is not running (SAGE_HOME ${home.root})\n`);
    return ExitCode.NOT_RUNNING;
  }
  const health = rec.url ? await new ApiClient(rec.url).health() : undefined;
  if (flags.json) {
    printJson(out, statusJson(rec, health));
    return ExitCode.OK;
  }
  if (!rec.url || !health) {
    out.write(`sage is starting (pid ${rec.pid})\n`);
    return ExitCode.OK;
  }
  const lines = [
    ['sage', `${rec.state} · pid ${rec.pid} · up ${duration(health.uptimeSec)} · health ${health.status}${health.ready === false ? ' · not ready' : ''}`],
    ['OpenAI API', `${rec.url}/v1`],
    ['scheduling', `${health.policy} policy · ${health.router} routing${health.pdSeparation ? ' · prefill/decode separation' : ''} · ${health.queueLength} queued`],
    ...(health.state_store && health.state_store !== 'local' ? [['state', `shared (${health.replica?.store ?? 'store'}) · ${health.state_store} · replica ${health.replica?.id ?? '-'}`]] : []),
  ];
  out.write(`${lines.map(([k, v]) => `${k!.padEnd(12)}${v}`).join('\n')}\n\n`);
  const engineIds = new Set(health.engines.map((e) => e.id));
  const rows = [
    ...health.engines.map((e) => [e.id, e.kind, typeOf(health, e.id), e.model, e.state, e.port, e.pid ?? '-', e.restarts, placementOf(health, e.id), loadOf(health, e.id)]),
    ...health.instances.filter((i) => !engineIds.has(i.id)).map((i) => [i.id, 'external', i.type, i.models.join(','), i.health, '-', '-', '-', placementOf(health, i.id), loadOf(health, i.id)]),
  ];
  out.write(rows.length ? table(['ENGINE', 'KIND', 'TYPE', 'MODEL', 'STATE', 'PORT', 'PID', 'RESTARTS', 'PLACEMENT', 'LOAD'], rows) : 'no engines (add one: sage llm engine start MODEL)\n');
  return ExitCode.OK;
}

async function logs(ctx: Context, flags: { follow?: boolean; lines: number; engine?: string; raw?: boolean }): Promise<number> {
  const { home, out } = ctx;
  const file = flags.engine ? path.join(home.engineLogDir, `${flags.engine}.log`) : home.logFile;
  if (!fs.existsSync(file)) {
    throw new CliError(flags.engine ? `no log for engine ${flags.engine} (${file})` : `no log yet (${file}); it is written once sage has started`, ExitCode.NOT_RUNNING);
  }
  const show = (line: string): void => out.write(`${flags.raw ? line : formatLogLine(line)}\n`);
  const text = fs.readFileSync(file, 'utf8');
  const all = text.split('\n');
  if (all.at(-1) === '') all.pop();
  for (const line of all.slice(Math.max(0, all.length - flags.lines))) show(line);
  if (!flags.follow) return ExitCode.OK;

  let offset = Buffer.byteLength(text);
  let partial = '';
  return new Promise<number>((resolve) => {
    const timer = setInterval(() => {
      let size: number;
      try {
        size = fs.statSync(file).size;
      } catch {
        return; // rotated away; wait for it to come back
      }
      if (size < offset) offset = 0; // truncated
      if (size === offset) return;
      const fd = fs.openSync(file, 'r');
      const buf = Buffer.alloc(size - offset);
      fs.readSync(fd, buf, 0, buf.length, offset);
      fs.closeSync(fd);
      offset = size;
      const chunk = partial + buf.toString('utf8');
      const parts = chunk.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) show(line);
    }, 250);
    const end = (): void => {
      clearInterval(timer);
      resolve(ExitCode.OK);
    };
    process.once('SIGINT', end);
    process.once('SIGTERM', end);
  });
}

function configShow(ctx: Context, flags: { json?: boolean; config?: string }): number {
  const { home, out } = ctx;
  const rec = findRunning(home);
  let config: SageConfig;
  let sources: Partial<SettingSources>;
  let note: string;
  if (rec && 'config' in rec && !flags.config) {
    config = rec.config;
    sources = rec.sources ?? {};
    note = `# the running control plane's settings (pid ${rec.pid}; config file ${rec.configSource})`;
  } else {
    const resolved = resolveConfig({ configFile: flags.config, savedConfigFile: home.configFile });
    config = resolved.config;
    sources = resolved.sources;
    note = `# settings the next start uses (config file ${resolved.source}; flags override them)`;
  }
  const shown = publicSettings(config);
  if (flags.json) {
    printJson(out, { ...shown, sources });
    return ExitCode.OK;
  }
  const rows = CONFIG_KEYS.map((key) => {
    const v = shown[key];
    const text = v === undefined ? '-' : Array.isArray(v) ? (v.length ? v.map((b) => Object.entries(b).map(([k, x]) => `${k}=${String(x)}`).join(',')).join(' ; ') : '-') : typeof v === 'object' ? Object.entries(v).map(([k, x]) => `${k}=${String(x)}`).join(',') : String(v);
    return [key, text, sources[key] ?? 'default'];
  });
  out.write(`${note}\n${table(['SETTING', 'VALUE', 'FROM'], rows)}`);
  return ExitCode.OK;
}

function configSet(ctx: Context, flags: { key: string; value: string }): number {
  const { home, out } = ctx;
  const { key, value } = setConfigValue(home.configFile, flags.key, flags.value);
  const running = findRunning(home);
  out.write(
    `${value === undefined ? `removed ${key}` : `set ${key} = ${JSON.stringify(value)}`} in ${home.configFile}` +
      `${running ? ' (takes effect when sage is restarted)' : ''}\n`,
  );
  return ExitCode.OK;
}

export function inferenceCommand(ctx: Context): Command {
  const inference = new Command('inference').description('run the control plane: start, stop, status, logs, config');

  inference
    .command('start')
    .description('start the control plane (the embedded default engines unless told otherwise)')
    .option('--llm-model <name>', 'model name for the embedded LLM engine')
    .option('--embedding-model <name>', 'model name for the embedded embedding engine')
    .option('--llm-backend <spec>', 'register an LLM server started elsewhere: URL or url=URL,model=M,type=PREFILLING,cost=2.5,machine=gpu-a,rack=r1,nvlink_group=g0,max_concurrency=16,api_key=K (repeatable)', collect)
    .option('--embedding-backend <spec>', 'register an embedding server started elsewhere: URL or url=URL,model=M,… (repeatable)', collect)
    .option('--preset <name|file>', 'engines to start: a built-in preset (sage llm preset list), a YAML file, or none')
    .option('--port <port>', 'port of the OpenAI and management API (default 8000)', portArg)
    .option('--host <host>', 'address to bind (default 127.0.0.1)')
    .option('--scheduling-policy <name>', 'fifo | priority | slo_aware | cost_optimized | adaptive | hybrid (default adaptive)')
    .option('--router <name>', 'load_balanced | round_robin | affinity | locality | prefix_aware | topology_aware')
    .option('--state-store <url>', 'share state with other replicas: redis://HOST:PORT[/DB] (default local; env SAGE_STATE_STORE)')
    .option('--background', 'run detached; return once it is healthy (log: $SAGE_HOME/logs/sage.log)')
    .option('--pd', 'prefill/decode separation: long prompts prefill on PREFILLING engines and decode on DECODING ones')
    .option('--set <key=value>', 'any setting, e.g. --set max_queue_size=200 --set request_timeout_ms=30000 (repeatable; see: sage inference config show)', collect)
    .option('--config <file>', `settings file, YAML or JSON (default $SAGE_HOME/config.yaml); keys: ${CONFIG_KEYS.join(', ')}`)
    .addOption(new Option('--log-level <level>', 'log level').choices([...LOG_LEVELS]))
    .addOption(new Option('--log-format <format>', 'log lines: pretty (default in a terminal) or json (default otherwise)').choices([...LOG_FORMATS]))
    .addHelpText(
      'after',
      `
Every setting also comes from a SAGE_* environment variable (SAGE_PORT, SAGE_HOST, SAGE_LOG_LEVEL,
SAGE_SCHEDULING_POLICY, SAGE_ROUTER, SAGE_PD_SEPARATION, SAGE_REQUEST_TIMEOUT_MS, …). Precedence, lowest first:
defaults < the preset's control_plane: section < config file < environment < flags.
See where each value comes from: sage inference config show`,
    )
    .action(async (flags: StartFlags) => {
      ctx.exitCode = await start(ctx, flags);
    });

  inference
    .command('stop')
    .description('stop the control plane gracefully (drain requests, stop its engines)')
    .option('--force', 'kill it and its engines at once (SIGKILL)')
    .option('--timeout <sec>', 'how long to wait for a graceful stop', intArg, 60)
    .action(async (flags: { force?: boolean; timeout: number }) => {
      ctx.exitCode = await stop(ctx, flags);
    });

  inference
    .command('status')
    .description('show the control plane, its engines, their state and load')
    .option('--json', 'machine-readable output')
    .action(async (flags: { json?: boolean }) => {
      ctx.exitCode = await status(ctx, flags);
    });

  inference
    .command('logs')
    .description("show the control plane's log (or an engine's)")
    .option('-f, --follow', 'keep printing new lines (Ctrl-C ends)')
    .option('-n, --lines <n>', 'how many lines to show from the end', intArg, 50)
    .option('--engine <id>', "an engine's log instead")
    .option('--raw', 'JSON lines as written, not formatted')
    .action(async (flags: { follow?: boolean; lines: number; engine?: string; raw?: boolean }) => {
      ctx.exitCode = await logs(ctx, flags);
    });

  const config = inference.command('config').description('show or change the saved settings ($SAGE_HOME/config.yaml)');
  config
    .command('show')
    .description('the effective settings and where each came from: default, preset, file, env (SAGE_*) or flag')
    .option('--json', 'machine-readable output')
    .option('--config <file>', 'show what this settings file would give')
    .action((flags: { json?: boolean; config?: string }) => {
      ctx.exitCode = configShow(ctx, flags);
    });
  config
    .command('set')
    .description('save one setting for the next start ("" as value removes it)')
    .requiredOption('--key <key>', `one of: ${CONFIG_KEYS.join(', ')}`)
    .requiredOption('--value <value>', 'the value (lists: comma-separated)')
    .action((flags: { key: string; value: string }) => {
      ctx.exitCode = configSet(ctx, flags);
    });
  return inference;
}
