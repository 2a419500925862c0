// `sage llm engine|preset|gpu` (F-402): talk to the running control plane's management API (--api-base).
import * as fs from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ENGINE_KINDS, listBuiltinPresets, loadPreset, planPreset, type Preset, type PresetPlan } from '@sage/llm-core';
import { ApiClient, resolveApiBase } from '../api';
import { CliError, ExitCode, oneLine, usageError } from '../errors';
import { fit, printJson, table } from '../output';
import { createProgress } from '../progress';
import { collect, portArg, positiveIntArg, type Context } from './shared';

interface EngineView {
  id: string;
  label?: string;
  kind: string;
  category: string;
  model: string;
  port: number;
  state: string;
  pid?: number;
  gpuIds: number[];
  restarts: number;
  instanceType: string;
  baseUrl: string;
  events?: { message: string }[];
}

interface BackendView {
  id: string;
  baseUrl: string;
  models: string[];
  type: string;
  health: string;
}

/** Engine starts can take minutes (vLLM loading weights); the server answers once the engine is healthy. */
const ENGINE_START_TIMEOUT_MS = 20 * 60_000;

interface ApiFlags {
  apiBase?: string;
  json?: boolean;
}

function client(ctx: Context, flags: ApiFlags): ApiClient {
  return new ApiClient(resolveApiBase(ctx.home, flags.apiBase));
}

const apiBaseOption = () => new Option('--api-base <url>', 'control plane URL (default: the running one in $SAGE_HOME, else http://127.0.0.1:8000)');
const jsonOption = () => new Option('--json', 'machine-readable output');

async function engineList(ctx: Context, flags: ApiFlags): Promise<number> {
  const body = await client(ctx, flags).call<{ engines: EngineView[]; backends: BackendView[] }>('GET', '/v1/management/engines');
  if (flags.json) {
    printJson(ctx.out, body);
    return ExitCode.OK;
  }
  const rows = [
    ...body.engines.map((e) => [e.id, e.kind, e.category, e.model, e.state, e.port, e.pid ?? '-', e.gpuIds.length ? e.gpuIds.join(',') : '-', e.restarts]),
    ...body.backends.map((b) => [b.id, 'external', b.type === 'EMBEDDING' ? 'embedding' : 'llm', b.models.join(','), b.health, new URL(b.baseUrl).port || '-', '-', '-', '-']),
  ];
  ctx.out.write(rows.length ? table(['ID', 'ENGINE', 'KIND', 'MODEL', 'STATE', 'PORT', 'PID', 'GPUS', 'RESTARTS'], rows) : 'no engines (start one: sage llm engine start MODEL)\n');
  return ExitCode.OK;
}

interface EngineStartFlags extends ApiFlags {
  engineKind: 'llm' | 'embedding';
  engine?: string;
  useGpu?: boolean;
  gpu?: boolean;
  port?: number;
  tensorParallel?: number;
  pipelineParallel?: number;
  label?: string;
  maxConcurrent?: number;
  instanceType?: string;
  cost?: number;
  machine?: string;
  rack?: string;
  nvlinkGroup?: string;
  apiKey?: string;
}

async function engineStart(ctx: Context, model: string, flags: EngineStartFlags, cmd: Command): Promise<number> {
  // --use-gpu / --no-gpu / neither (F-213: LLM engines take a GPU, embedding engines do not).
  const useGpu = cmd.getOptionValueSource('gpu') === 'cli' ? false : flags.useGpu ? true : undefined;
  if (flags.useGpu && useGpu === false) throw usageError('--use-gpu and --no-gpu contradict each other');
  const body = {
    model,
    kind: flags.engineKind,
    engine: flags.engine,
    port: flags.port,
    tensorParallel: flags.tensorParallel,
    pipelineParallel: flags.pipelineParallel,
    label: flags.label,
    maxConcurrentRequests: flags.maxConcurrent,
    instanceType: flags.instanceType,
    useGpu,
    costPerHour: flags.cost,
    machine: flags.machine,
    rack: flags.rack,
    nvlinkGroup: flags.nvlinkGroup,
    apiKey: flags.apiKey,
  };
  const api = client(ctx, flags);
  const what = `${flags.engine ?? flags.engineKind} engine for ${model}`;
  const progress = createProgress(ctx.out, `starting ${what}…`, { quiet: flags.json });
  let info: EngineView;
  try {
    info = await api.call<EngineView>('POST', '/v1/management/engines', body, ENGINE_START_TIMEOUT_MS);
  } catch (err) {
    progress.fail(`${what} did not start`);
    throw err;
  }
  if (flags.json) printJson(ctx.out, info);
  else progress.succeed(`engine ${info.id} is ${info.state} on port ${info.port} (pid ${info.pid ?? '-'}, ${info.baseUrl})`);
  return ExitCode.OK;
}

interface EngineRegisterFlags extends ApiFlags {
  url: string;
  model: string[];
  kind?: 'llm' | 'embedding';
  maxConcurrent?: number;
  id?: string;
  apiKeyEnv?: string;
  wait?: number;
  existsOk?: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until the engine answers its model list (an engine pod starts before its weights are loaded). */
async function waitForEngine(url: string, seconds: number, apiKey: string | undefined): Promise<void> {
  const base = url.replace(/\/+$/, '').replace(/\/v1$/, '');
  const deadline = Date.now() + seconds * 1000;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      // vLLM answers both; TEI has /health but may not list models.
      for (const probe of ['/v1/models', '/health']) {
        const res = await fetch(`${base}${probe}`, { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {}, signal: AbortSignal.timeout(5000) });
        if (res.ok) return;
        last = `HTTP ${res.status}`;
      }
    } catch (err) {
      last = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    }
    await sleep(1000);
  }
  throw new CliError(`the engine at ${url} did not answer GET /v1/models or /health within ${seconds}s (${last})`);
}

async function engineRegister(ctx: Context, flags: EngineRegisterFlags): Promise<number> {
  let url: URL;
  try {
    url = new URL(flags.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw usageError(`--url: "${flags.url}" is not an http(s) URL`);
  }
  const apiKey = flags.apiKeyEnv ? process.env[flags.apiKeyEnv]?.trim() : undefined;
  if (flags.apiKeyEnv && !apiKey) throw usageError(`--api-key-env: the environment variable ${flags.apiKeyEnv} is not set`);
  if (flags.wait) await waitForEngine(flags.url, flags.wait, apiKey);
  const body = { baseUrl: url.toString(), models: flags.model, kind: flags.kind, maxConcurrency: flags.maxConcurrent, id: flags.id, apiKey };
  const { status, body: answer } = await client(ctx, flags).request<{ id?: string; models?: string[]; maxConcurrency?: number; error?: { message?: string; code?: string } }>(
    'POST',
    '/v1/management/engines/register',
    body,
  );
  if (status === 409 && flags.existsOk && answer?.error?.code === 'already_registered') {
    if (flags.json) printJson(ctx.out, { registered: false, alreadyRegistered: true, message: answer.error.message });
    else ctx.out.write(`already registered: ${answer.error.message}\n`);
    return ExitCode.OK;
  }
  if (status !== 201 || !answer?.id) {
    const hint = status === 401 || status === 403 ? ' (set SAGE_ADMIN_KEY to the control plane admin key)' : '';
    throw new CliError(`${answer?.error?.message ?? `HTTP ${status}`}${hint}`, status === 400 ? ExitCode.USAGE : ExitCode.FAILURE);
  }
  if (flags.json) printJson(ctx.out, answer);
  else ctx.out.write(`registered ${answer.id}: ${flags.url} serving ${(answer.models ?? flags.model).join(', ')} (at most ${answer.maxConcurrency ?? '-'} concurrent requests)\n`);
  return ExitCode.OK;
}

async function engineStop(ctx: Context, id: string, flags: ApiFlags & { drain?: boolean }): Promise<number> {
  const progress = createProgress(ctx.out, `stopping engine ${id}${flags.drain ? ' (draining its requests)' : ''}…`, { quiet: flags.json });
  let info: { id: string; state?: string; external?: boolean };
  try {
    info = await client(ctx, flags).call('DELETE', `/v1/management/engines/${encodeURIComponent(id)}${flags.drain ? '?drain=true' : ''}`, undefined, 120_000);
  } catch (err) {
    progress.fail(`engine ${id} was not stopped`);
    throw err;
  }
  if (flags.json) printJson(ctx.out, info);
  else progress.succeed(info.external ? `external backend ${id} removed` : `engine ${id} is ${info.state ?? 'STOPPED'}`);
  return ExitCode.OK;
}

async function enginePrune(ctx: Context, flags: ApiFlags): Promise<number> {
  const { pruned } = await client(ctx, flags).call<{ pruned: string[] }>('POST', '/v1/management/engines/prune');
  if (flags.json) printJson(ctx.out, { pruned });
  else ctx.out.write(pruned.length ? `removed ${pruned.length} stopped/failed engine${pruned.length === 1 ? '' : 's'}: ${pruned.join(', ')}\n` : 'nothing to prune\n');
  return ExitCode.OK;
}

function presetRef(ref: string): Preset {
  try {
    return loadPreset(ref);
  } catch (err) {
    throw usageError(oneLine(err));
  }
}

function planTable(plan: PresetPlan): string {
  return table(
    ['NAME', 'KIND', 'ENGINE', 'MODEL', 'TYPE', 'PORT', 'GPU'],
    plan.engines.map((e) => [
      e.name,
      e.kind,
      e.engine,
      e.model,
      e.instanceType,
      e.portIsAuto ? `${e.port} (auto)` : e.port,
      e.gpu ? `${e.gpu.count} × ${e.gpu.memoryGbPerGpu} GB` : 'no',
    ]),
  );
}

function presetList(ctx: Context, flags: { json?: boolean }): number {
  const presets = listBuiltinPresets();
  if (flags.json) printJson(ctx.out, { presets: presets.map((p) => ({ name: p.name, description: p.description, engines: p.engines.length })) });
  else {
    // Descriptions are prose: cut to the terminal rather than wrap into the next row.
    const room = ctx.out.columns ? ctx.out.columns - Math.max(...presets.map((p) => p.name.length)) - 13 : undefined;
    ctx.out.write(table(['PRESET', 'ENGINES', 'DESCRIPTION'], presets.map((p) => [p.name, p.engines.length, fit(p.description ?? '', room)])));
  }
  return ExitCode.OK;
}

function presetShow(ctx: Context, ref: string, flags: { json?: boolean }): number {
  const preset = presetRef(ref);
  const plan = planPreset(preset);
  if (flags.json) {
    printJson(ctx.out, { preset, plan });
    return ExitCode.OK;
  }
  ctx.out.write(`${preset.name}: ${preset.description ?? ''}\n\n${planTable(plan)}\ncommands:\n${plan.engines.map((e) => `  ${e.name}: ${e.command}`).join('\n')}\n`);
  return ExitCode.OK;
}

async function presetApply(ctx: Context, ref: string, flags: ApiFlags & { dryRun?: boolean; rollback: boolean }): Promise<number> {
  const isFile = fs.existsSync(ref) && fs.statSync(ref).isFile();
  const preset = presetRef(ref); // validated here first: a bad file is a usage error before anything starts
  if (flags.dryRun) {
    const plan = planPreset(preset);
    if (flags.json) printJson(ctx.out, { dryRun: true, plan });
    else ctx.out.write(`dry run: applying ${preset.name} would start ${plan.engines.length} engine${plan.engines.length === 1 ? '' : 's'} (GPUs needed: ${plan.gpusNeeded})\n\n${planTable(plan)}\ncommands:\n${plan.engines.map((e) => `  ${e.name}: ${e.command}`).join('\n')}\n`);
    return ExitCode.OK;
  }
  const body = isFile ? { yaml: fs.readFileSync(ref, 'utf8'), rollback: flags.rollback } : { name: preset.name, rollback: flags.rollback };
  const progress = createProgress(ctx.out, `applying preset ${preset.name}: starting ${preset.engines.length} engine${preset.engines.length === 1 ? '' : 's'}…`, { quiet: flags.json });
  const api = client(ctx, flags);
  const { status, body: result } = await api
    .request<{
      ok?: boolean;
      started?: { name: string; engine: EngineView }[];
      failed?: { name: string; error: string };
      rolledBack?: string[];
      error?: { message: string };
    }>('POST', '/v1/management/presets/apply', body, ENGINE_START_TIMEOUT_MS)
    .catch((err: unknown) => {
      progress.fail(`preset ${preset.name} was not applied`);
      throw err;
    });
  if (flags.json) printJson(ctx.out, result);
  if (result?.error) {
    progress.fail(`preset ${preset.name} was not applied`);
    throw new CliError(result.error.message, status === 400 ? ExitCode.USAGE : ExitCode.FAILURE);
  }
  if (!result?.ok) {
    progress.fail(`preset ${preset.name} failed`);
    const rolled = result?.rolledBack?.length ? `; rolled back: ${result.rolledBack.join(', ')}` : '';
    throw new CliError(`engine ${result?.failed?.name} failed to start: ${oneLine(result?.failed?.error)}${rolled}`);
  }
  progress.succeed(`preset ${preset.name} applied`);
  if (!flags.json) {
    ctx.out.write(table(['NAME', 'ID', 'ENGINE', 'MODEL', 'STATE', 'PORT'], (result.started ?? []).map((s) => [s.name, s.engine.id, s.engine.kind, s.engine.model, s.engine.state, s.engine.port])));
  }
  return ExitCode.OK;
}

interface GpuView {
  index: number;
  name: string;
  memoryTotalGb: number;
  reservedGb: number;
  freeGb: number;
  utilizationPct: number;
  engines: string[];
}

async function gpu(ctx: Context, flags: ApiFlags): Promise<number> {
  const body = await client(ctx, flags).call<{ gpus: GpuView[]; allocations: unknown[] }>('GET', '/v1/management/gpu');
  if (flags.json) {
    printJson(ctx.out, body);
    return ExitCode.OK;
  }
  if (!body.gpus.length) {
    ctx.out.write('no GPUs (nvidia-smi found none; SAGE_GPU_MOCK_COUNT simulates some). Built-in sim engines need none.\n');
    return ExitCode.OK;
  }
  ctx.out.write(
    table(
      ['GPU', 'NAME', 'MEMORY', 'RESERVED', 'FREE', 'UTIL', 'ENGINES'],
      body.gpus.map((g) => [g.index, g.name, `${g.memoryTotalGb} GB`, `${g.reservedGb} GB`, `${g.freeGb} GB`, `${g.utilizationPct}%`, g.engines.join(', ') || '-']),
    ),
  );
  return ExitCode.OK;
}

function costArg(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of 0 or more');
  return n;
}

export function llmCommand(ctx: Context): Command {
  const llm = new Command('llm').description('engines, presets and GPUs of the running control plane');
  const engine = llm.command('engine').description('list, start, stop and prune engines');

  engine
    .command('list')
    .description('engines and registered backends')
    .addOption(apiBaseOption())
    .addOption(jsonOption())
    .action(async (flags: ApiFlags) => {
      ctx.exitCode = await engineList(ctx, flags);
    });

  engine
    .command('start')
    .description('start an engine serving MODEL and put it into rotation once healthy')
    .argument('<model>', 'model name (or path, for llama-cpp)')
    .addOption(new Option('--engine-kind <kind>', 'what it serves').choices(['llm', 'embedding']).default('llm'))
    .addOption(new Option('--engine <engine>', 'engine to run (default: vllm / tei where a GPU and their executables are found, else sim-llm / sim-embedding)').choices([...ENGINE_KINDS]))
    .option('--use-gpu', 'force a GPU (embedding engines run on CPU otherwise)')
    .option('--no-gpu', 'force no GPU')
    .option('--port <port>', 'explicit port (default: allocated from the engine ranges)', portArg)
    .option('--tensor-parallel <n>', 'tensor-parallel size (alias -tp)', positiveIntArg)
    .option('--pipeline-parallel <n>', 'pipeline-parallel size (alias -pp)', positiveIntArg)
    .option('--label <label>', 'a human label')
    .option('--max-concurrent <n>', 'maximum concurrent requests the scheduler sends it', positiveIntArg)
    .addOption(new Option('--instance-type <type>', 'scheduling role').choices(['GENERAL', 'PREFILLING', 'DECODING', 'HYBRID', 'EMBEDDING', 'LLM_EMBEDDING']))
    .option('--cost <per-hour>', 'what it costs per hour (cost_optimized prefers the cheaper)', costArg)
    .option('--machine <id>', 'machine it runs on (topology_aware pairs prefill and decode nearby)')
    .option('--rack <id>', 'rack it runs in')
    .option('--nvlink-group <id>', 'NVLink group: engines of one group move KV caches over NVLink')
    .option('--api-key <key>', 'API key the engine requires (never shown afterwards)')
    .addOption(apiBaseOption())
    .addOption(jsonOption())
    .action(async (model: string, flags: EngineStartFlags, cmd: Command) => {
      ctx.exitCode = await engineStart(ctx, model, flags, cmd);
    });

  engine
    .command('register')
    .description('put an engine started elsewhere (a vLLM, a TEI, an OpenAI-compatible API) into rotation')
    .requiredOption('--url <url>', "the engine's OpenAI-compatible base URL, e.g. http://10.0.0.7:8000/v1")
    .requiredOption('--model <name>', 'a model it serves (repeatable)', collect)
    .addOption(new Option('--kind <kind>', 'what it serves').choices(['llm', 'embedding']).default('llm'))
    .option('--max-concurrent <n>', 'requests in flight at once, across all control-plane replicas (default 32)', positiveIntArg)
    .option('--id <id>', 'instance id (default: derived from the URL); a stable one makes re-registration idempotent')
    .option('--api-key-env <var>', "environment variable holding the engine's API key")
    .option('--wait <sec>', 'first wait up to this long for the engine to answer GET /v1/models or /health', positiveIntArg)
    .option('--exists-ok', 'an engine already registered under this id or URL is not an error')
    .addOption(apiBaseOption())
    .addOption(jsonOption())
    .action(async (flags: EngineRegisterFlags) => {
      ctx.exitCode = await engineRegister(ctx, flags);
    });

  engine
    .command('stop')
    .description('take an engine out of rotation and stop it (or remove a registered backend)')
    .argument('<id>', 'engine id (see: sage llm engine list)')
    .option('--drain', 'let its in-flight requests finish first')
    .addOption(apiBaseOption())
    .addOption(jsonOption())
    .action(async (id: string, flags: ApiFlags & { drain?: boolean }) => {
      ctx.exitCode = await engineStop(ctx, id, flags);
    });

  engine
    .command('prune')
    .description('forget stopped and failed engines')
    .addOption(apiBaseOption())
    .addOption(jsonOption())
    .action(async (flags: ApiFlags) => {
      ctx.exitCode = await enginePrune(ctx, flags);
    });

  const preset = llm.command('preset').description('engine sets described in YAML');
  preset
    .command('list')
    .description('the built-in presets')
    .addOption(jsonOption())
    .action((flags: { json?: boolean }) => {
      ctx.exitCode = presetList(ctx, flags);
    });
  preset
    .command('show')
    .description('what a preset contains and the commands it would run')
    .argument('<name|file>', 'a built-in preset name or a YAML file')
    .addOption(jsonOption())
    .action((ref: string, flags: { json?: boolean }) => {
      ctx.exitCode = presetShow(ctx, ref, flags);
    });
  preset
    .command('apply')
    .description("start a preset's engines on the running control plane")
    .argument('<name|file>', 'a built-in preset name or a YAML file')
    .option('--dry-run', 'show the plan, start nothing')
    .option('--no-rollback', 'keep the engines that started when a later one fails')
    .addOption(apiBaseOption())
    .addOption(jsonOption())
    .action(async (ref: string, flags: ApiFlags & { dryRun?: boolean; rollback: boolean }) => {
      ctx.exitCode = await presetApply(ctx, ref, flags);
    });

  llm
    .command('gpu')
    .description('GPUs, their memory and which engines hold them')
    .addOption(apiBaseOption())
    .addOption(jsonOption())
    .action(async (flags: ApiFlags) => {
      ctx.exitCode = await gpu(ctx, flags);
    });
  return llm;
}
