// Command line of the built-in engines: `sage-engine sim-llm ...` and `sage-engine sim-embedding ...`.
// Each runs one server until SIGTERM/SIGINT. stdout carries exactly one line, the JSON
// {"event":"listening",...} with the bound port (so `--port 0` works for a parent process); logs go
// to stderr as pino JSON.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import pino, { type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { boundPort } from './http/app';
import { buildSimLlmApp, SIM_LLM_ROLES, type SimLlmRole } from './llm/server';
import { buildSimEmbeddingApp } from './embedding/server';
import { DEFAULT_ENGINE_MODEL_PARAMS as D } from './model/params';
import { DEFAULT_BATCH_COST_PARAMS as E } from './embedding/batch-cost';
import { DEFAULT_EMBEDDING_DIMENSIONS } from './embedding/lexical-embedder';

const SHUTDOWN_DEADLINE_MS = 10_000;

function positiveInt(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return n;
  };
}
function positiveNumber(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
    return n;
  };
}
function nonNegativeNumber(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative number`);
    return n;
  };
}
function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('port must be an integer 0..65535 (0 picks a free port)');
  return n;
}

interface CommonOpts {
  port: number;
  host: string;
  model: string;
  logLevel: string;
}

export interface LlmCliOptions extends CommonOpts {
  role: SimLlmRole;
  timeScale: number;
  prefillTokensPerSecond: number;
  maxBatchedTokens: number;
  decodeBaseMs: number;
  decodePerSeqMs: number;
  maxNumSeqs: number;
  kvCacheBlocks: number;
  blockSize: number;
  prefixCaching: boolean;
  maxModelLen: number;
  engineId?: string;
}

export interface EmbeddingCliOptions extends CommonOpts {
  dimensions: number;
  maxBatch: number;
  maxConcurrent: number;
  maxInputTokens: number;
  batchOverheadMs: number;
  perTokenMs: number;
  timeScale: number;
}

function addCommon(cmd: Command): Command {
  return cmd
    .requiredOption('--port <port>', 'TCP port to listen on (0 picks a free one)', port)
    .requiredOption('--model <name>', 'model name to serve (requests naming another model get 404)')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--log-level <level>', 'pino log level (fatal|error|warn|info|debug|trace|silent)', 'info');
}

/** Listen, announce the port on stdout, and stop gracefully on SIGTERM/SIGINT. */
async function serve(app: FastifyInstance, o: CommonOpts, log: Logger, engine: string, details: Record<string, unknown>): Promise<void> {
  // Signal handlers go in before listening: a parent may stop the engine as soon as it reads the port.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, `${engine}: stopping (draining in-flight requests)`);
    const timer = setTimeout(() => {
      log.warn(`${engine}: drain deadline passed, exiting`);
      process.exit(0);
    }, SHUTDOWN_DEADLINE_MS);
    timer.unref();
    app.close().then(
      () => {
        log.info(`${engine}: stopped`);
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, `${engine}: error while stopping`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  try {
    await app.listen({ port: o.port, host: o.host });
  } catch (err) {
    log.fatal({ err, port: o.port, host: o.host }, `${engine}: cannot listen on ${o.host}:${o.port}`);
    process.exit(1);
  }
  const actual = boundPort(app);
  log.info({ simulator: true, model: o.model, host: o.host, port: actual, ...details }, `SIMULATOR ${engine} serving "${o.model}" on http://${o.host}:${actual} (simulated engine, no model weights)`);
  process.stdout.write(JSON.stringify({ event: 'listening', engine, simulator: true, model: o.model, host: o.host, port: actual, pid: process.pid, url: `http://${o.host}:${actual}` }) + '\n');
}

function logger(level: string, engine: string): Logger {
  return pino({ level, base: { engine, pid: process.pid } }, pino.destination(2));
}

/** The package version, from the package.json beside src/ and dist/. */
export function simEnginesVersion(): string {
  return (JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
}

export function buildCli(): Command {
  const program = new Command('sage-engine')
    .description("sage's built-in engines: simulators that serve OpenAI-compatible APIs without model weights")
    .version(simEnginesVersion(), '-V, --version', 'print the version and exit')
    .showHelpAfterError();

  addCommon(program.command('sim-llm').description('simulated LLM engine (continuous batching GPU model, deterministic answers)'))
    .addOption(new Option('--role <role>', 'disaggregated-serving role').choices(SIM_LLM_ROLES as string[]).default('general'))
    .option('--time-scale <x>', 'wall seconds per model second (0.1 = ten times faster)', positiveNumber('time-scale'), D.timeScale)
    .option('--prefill-tokens-per-second <n>', 'prefill throughput', positiveNumber('prefill-tokens-per-second'), D.prefillTokensPerSecond)
    .option('--max-batched-tokens <n>', 'chunked-prefill token budget per step', positiveInt('max-batched-tokens'), D.maxBatchedTokens)
    .option('--decode-base-ms <ms>', 'fixed step time', nonNegativeNumber('decode-base-ms'), D.decodeBaseMs)
    .option('--decode-per-seq-ms <ms>', 'step time per decoding sequence', nonNegativeNumber('decode-per-seq-ms'), D.decodePerSeqMs)
    .option('--max-num-seqs <n>', 'maximum running sequences', positiveInt('max-num-seqs'), D.maxRunningSeqs)
    .option('--kv-cache-blocks <n>', 'KV-cache capacity in blocks', positiveInt('kv-cache-blocks'), D.kvCacheBlocks)
    .option('--block-size <n>', 'tokens per KV block', positiveInt('block-size'), D.blockSize)
    .option('--no-prefix-caching', 'disable prefix caching')
    .option('--max-model-len <n>', 'context window in tokens', positiveInt('max-model-len'), D.maxModelLen)
    .option('--engine-id <id>', 'engine id reported in kv_transfer_params')
    .action(async (o: LlmCliOptions) => {
      const log = logger(o.logLevel, 'sim-llm');
      // kv_transfer_params tell decode engines where this engine listens (the bound port, once known).
      const advertise = () => ({ host: o.host, port: app.server.listening ? boundPort(app) : o.port });
      const { app, params } = buildSimLlmApp({
        model: o.model,
        role: o.role,
        logger: log,
        engineId: o.engineId,
        advertise,
        engine: {
          timeScale: o.timeScale,
          prefillTokensPerSecond: o.prefillTokensPerSecond,
          maxBatchedTokens: o.maxBatchedTokens,
          decodeBaseMs: o.decodeBaseMs,
          decodePerSeqMs: o.decodePerSeqMs,
          maxRunningSeqs: o.maxNumSeqs,
          kvCacheBlocks: o.kvCacheBlocks,
          blockSize: o.blockSize,
          enablePrefixCaching: o.prefixCaching,
          maxModelLen: o.maxModelLen,
        },
      });
      await serve(app, o, log, 'sim-llm', { role: o.role, model_params: params });
    });

  addCommon(program.command('sim-embedding').description('simulated embedding engine (lexical hashing embeddings, GPU batch cost model)'))
    .option('--dimensions <d>', 'embedding size', positiveInt('dimensions'), DEFAULT_EMBEDDING_DIMENSIONS)
    .option('--max-batch <n>', 'maximum inputs per request and per GPU batch', positiveInt('max-batch'), E.maxBatchSize)
    .option('--max-concurrent <n>', 'requests in flight before 429', positiveInt('max-concurrent'), 512)
    .option('--max-input-tokens <n>', 'tokens per input before 413 (or truncation with truncate: true)', positiveInt('max-input-tokens'), 512)
    .option('--batch-overhead-ms <ms>', 'fixed cost of one batch', nonNegativeNumber('batch-overhead-ms'), E.batchOverheadMs)
    .option('--per-token-ms <ms>', 'cost per input token', nonNegativeNumber('per-token-ms'), E.perTokenMs)
    .option('--time-scale <x>', 'wall seconds per model second', positiveNumber('time-scale'), 1)
    .action(async (o: EmbeddingCliOptions) => {
      const log = logger(o.logLevel, 'sim-embedding');
      const { app } = buildSimEmbeddingApp({
        model: o.model,
        dimensions: o.dimensions,
        maxBatchSize: o.maxBatch,
        maxConcurrentRequests: o.maxConcurrent,
        maxInputTokens: o.maxInputTokens,
        batchOverheadMs: o.batchOverheadMs,
        perTokenMs: o.perTokenMs,
        timeScale: o.timeScale,
        logger: log,
      });
      await serve(app, o, log, 'sim-embedding', { dimensions: o.dimensions, max_batch: o.maxBatch, max_concurrent: o.maxConcurrent, max_input_tokens: o.maxInputTokens, time_scale: o.timeScale });
    });

  return program;
}

/** Parse argv (process.argv shape) and run the chosen engine. */
export async function runSimEngineCli(argv: readonly string[] = process.argv): Promise<void> {
  await buildCli().parseAsync([...argv]);
}
