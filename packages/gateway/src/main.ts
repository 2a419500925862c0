// sage-gateway: runs the RAG gateway as a process. Prints one JSON line {"event":"listening",...} on
// stdout when ready (logs go to stderr), and shuts down gracefully on SIGTERM / SIGINT.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { createGateway, DEFAULT_GATEWAY_PORT, type Gateway } from './gateway';
import type { RetrievalOptions } from './rag/retriever';
import { GatewayError } from './errors';

const USAGE = `Usage: sage-gateway [options]

RAG gateway: OpenAI-compatible chat over your documents, with ingestion, retrieval and sessions.

Options:
  --port <port>               port to listen on, 0 picks a free one (default ${DEFAULT_GATEWAY_PORT})
  --host <host>               address to bind (default 127.0.0.1)
  --data-dir <dir>            where vectors and sessions are kept (default $SAGE_HOME/gateway)
  --llm-base-url <url>        OpenAI-compatible LLM endpoint (default: detected, e.g. a control plane on 8000)
  --llm-model <model>         LLM model id (default: the first the endpoint serves)
  --embedding-base-url <url>  OpenAI-compatible embedding endpoint (default: detected)
  --embedding-model <model>   embedding model id (default: the first the endpoint serves)
  --ingest-root <dir>         only ingest paths inside this folder (repeatable; default: any readable path)
  --retrieval <mode>          hybrid (vector and full-text search fused, default), vector or fulltext
  --vector-weight <w>         weight of the vector ranking in the fusion (default 1)
  --fulltext-weight <w>       weight of the full-text ranking in the fusion (default 1; 2 with a lexical embedder)
  --rrf-k <k>                 k of reciprocal rank fusion: larger flattens the lead of the first ranks
                              (default 60; 10 with a lexical embedder such as the built-in sim-embedding)
  --log-level <level>         pino level for the logs on stderr (default $SAGE_LOG_LEVEL or info)
  -V, --version               print the version and exit
  -h, --help                  show this help
`;

/** A bad command line: one line on stderr and exit code 2. */
class UsageError extends GatewayError {
  constructor(message: string) {
    super(400, message, 'invalid_argument');
  }
}

export interface CliOptions {
  port: number;
  host: string;
  dataDir?: string;
  llmBaseUrl?: string;
  llmModel?: string;
  embeddingBaseUrl?: string;
  embeddingModel?: string;
  ingestRoots?: string[];
  retrieval: RetrievalOptions;
  logLevel: string;
  help: boolean;
  version: boolean;
}

export function parseCli(args: readonly string[]): CliOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'data-dir': { type: 'string' },
        'llm-base-url': { type: 'string' },
        'llm-model': { type: 'string' },
        'embedding-base-url': { type: 'string' },
        'embedding-model': { type: 'string' },
        'log-level': { type: 'string' },
        'ingest-root': { type: 'string', multiple: true },
        retrieval: { type: 'string' },
        'vector-weight': { type: 'string' },
        'fulltext-weight': { type: 'string' },
        'rrf-k': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const port = values.port === undefined ? DEFAULT_GATEWAY_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be an integer from 0 to 65535, got "${values.port}"`);
  const mode = values.retrieval;
  if (mode !== undefined && mode !== 'hybrid' && mode !== 'vector' && mode !== 'fulltext') throw new UsageError(`--retrieval must be hybrid, vector or fulltext, got "${mode}"`);
  const weight = (flag: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    const w = Number(value);
    if (value.trim() === '' || !Number.isFinite(w) || w < 0) throw new UsageError(`--${flag} must be a number of 0 or more, got "${value}"`);
    return w;
  };
  const vectorWeight = weight('vector-weight', values['vector-weight']);
  const fulltextWeight = weight('fulltext-weight', values['fulltext-weight']);
  if (vectorWeight === 0 && fulltextWeight === 0) throw new UsageError('--vector-weight and --fulltext-weight cannot both be 0');
  const rrfK = weight('rrf-k', values['rrf-k']);
  return {
    port,
    host: values.host ?? '127.0.0.1',
    dataDir: values['data-dir'],
    llmBaseUrl: values['llm-base-url'],
    llmModel: values['llm-model'],
    embeddingBaseUrl: values['embedding-base-url'],
    embeddingModel: values['embedding-model'],
    ingestRoots: values['ingest-root'],
    retrieval: {
      ...(mode !== undefined && { mode }),
      ...(vectorWeight !== undefined && { vectorWeight }),
      ...(fulltextWeight !== undefined && { fulltextWeight }),
      ...(rrfK !== undefined && { rrfK }),
    },
    logLevel: values['log-level'] ?? process.env.SAGE_LOG_LEVEL ?? 'info',
    help: values.help ?? false,
    version: values.version ?? false,
  };
}

/** The package's version (package.json sits one level above both src/ and dist/). */
function gatewayVersion(): string {
  return (JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
}

export async function main(args: readonly string[] = process.argv.slice(2)): Promise<void> {
  let o: CliOptions;
  try {
    o = parseCli(args);
  } catch (err) {
    process.stderr.write(`sage-gateway: ${(err as Error).message}\n(see sage-gateway --help)\n`);
    process.exit(2);
  }
  if (o.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (o.version) {
    process.stdout.write(`${gatewayVersion()}\n`);
    return;
  }

  const logger = pino({ level: o.logLevel, name: 'sage-gateway' }, pino.destination(2));
  let gateway: Gateway;
  try {
    gateway = await createGateway({
      dataDir: o.dataDir,
      logger,
      llm: { baseUrl: o.llmBaseUrl, model: o.llmModel },
      embedding: { baseUrl: o.embeddingBaseUrl, model: o.embeddingModel },
      ingestRoots: o.ingestRoots,
      retrieval: o.retrieval,
    });
    const { url, port } = await gateway.listen({ port: o.port, host: o.host });
    process.stdout.write(`${JSON.stringify({ event: 'listening', port, url, dataDir: gateway.dataDir })}\n`);
  } catch (err) {
    process.stderr.write(`sage-gateway: ${(err as Error).message}\n`);
    process.exit(1);
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`sage-gateway: ${signal} again, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    gateway.close().then(
      () => {
        process.stdout.write(`${JSON.stringify({ event: 'stopped', signal })}\n`);
        process.exit(0);
      },
      (err: Error) => {
        process.stderr.write(`sage-gateway: shutdown failed: ${err.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (require.main === module) void main();
