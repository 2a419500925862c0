// `sage-server`: the control plane in the foreground (what `npm start` runs until the `sage` CLI wraps it).
import { Command, InvalidArgumentError } from 'commander';
import pino from 'pino';
import { startControlPlaneServer } from './start';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0-65535');
  return n;
}
const collect = (value: string, previous: string[]) => [...previous, value];

export async function main(argv = process.argv): Promise<void> {
  const program = new Command('sage-server')
    .description('Start the sage control plane (OpenAI-compatible API + management API)')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'port to listen on', port, 8000)
    .option('--preset <name|file>', 'engines to start: a built-in preset name or a YAML file (default: the embedded default)')
    .option('--llm-model <name>', 'model name for the embedded LLM engine')
    .option('--embedding-model <name>', 'model name for the embedded embedding engine')
    .option('--llm-backend <url>', 'register an external OpenAI-compatible LLM server (repeatable)', collect, [])
    .option('--embedding-backend <url>', 'register an external embedding server (repeatable)', collect, [])
    .option('--scheduling-policy <name>', 'fifo | priority | slo_aware | cost_optimized | adaptive | hybrid', 'adaptive')
    .option('--router <name>', 'load_balanced | round_robin | affinity | locality | prefix_aware | topology_aware', 'load_balanced')
    .option('--log-level <level>', 'pino log level', process.env.SAGE_LOG_LEVEL ?? 'info')
    .showHelpAfterError();
  program.parse(argv);
  const o = program.opts<{
    host: string;
    port: number;
    preset?: string;
    llmModel?: string;
    embeddingModel?: string;
    llmBackend: string[];
    embeddingBackend: string[];
    schedulingPolicy: string;
    router: string;
    logLevel: string;
  }>();
  const logger = pino({ name: 'sage', level: o.logLevel });
  const running = await startControlPlaneServer({
    host: o.host,
    port: o.port,
    preset: o.preset,
    llmModel: o.llmModel,
    embeddingModel: o.embeddingModel,
    llmBackends: o.llmBackend,
    embeddingBackends: o.embeddingBackend,
    policy: o.schedulingPolicy,
    router: o.router,
    logger,
  });
  const models = running.runtime.manager.getInstances().flatMap((i) => i.models);
  const chatModel = running.runtime.manager.getInstances().find((i) => i.type !== 'EMBEDDING')?.models[0] ?? models[0] ?? 'MODEL';
  logger.info({ url: `${running.url}/v1`, models }, 'sage control plane ready');
  process.stdout.write(
    `\nsage is serving an OpenAI-compatible API at ${running.url}/v1\n` +
      `try:\n  curl ${running.url}/v1/chat/completions -H 'content-type: application/json' \\\n` +
      `    -d '{"model":"${chatModel}","messages":[{"role":"user","content":"Hello!"}]}'\n\n`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: draining requests and stopping engines');
    running.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`sage-server: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
