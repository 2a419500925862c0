// Starts a complete control plane: runtime (scheduler + engines), the embedded default or a preset, external
// backends, and the HTTP server. Used by `npm start`, the `sage` CLI and tests.
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { ControlPlaneRuntime, type RuntimeOptions } from '../runtime/control-plane-runtime';
import { resolveStartPreset, type Preset } from '../engines/presets';
import { buildServer } from './app';
import { authConfigFromEnv, type AuthConfig } from './auth';
import { registerManagementRoutes } from './routes/management';

export interface ControlPlaneServerConfig {
  host?: string;
  port?: number;
  policy?: string;
  router?: string;
  /** A built-in preset name, a YAML file path, or a parsed preset. Default: the embedded default unless backends are given. */
  preset?: string | Preset | false;
  /** Model names for the embedded default's engines. */
  llmModel?: string;
  embeddingModel?: string;
  llmBackends?: string[];
  embeddingBackends?: string[];
  auth?: AuthConfig;
  bodyLimit?: number;
  runtime?: Omit<RuntimeOptions, 'logger'>;
  logger?: Logger;
  version?: string;
}

export interface RunningControlPlane {
  app: FastifyInstance;
  runtime: ControlPlaneRuntime;
  /** e.g. http://127.0.0.1:8000 */
  url: string;
  port: number;
  /** Graceful: stop accepting, drain in-flight requests up to `drainMs`, stop launched engines. */
  close(drainMs?: number): Promise<void>;
}

export async function startControlPlaneServer(config: ControlPlaneServerConfig = {}): Promise<RunningControlPlane> {
  const log = config.logger ?? pino({ level: 'silent' });
  const preset = resolveStartPreset(config);
  const runtime = await ControlPlaneRuntime.create({
    ...config.runtime,
    scheduler: { policy: config.policy ?? 'adaptive', router: config.router ?? 'load_balanced', ...config.runtime?.scheduler },
    logger: log,
  });
  try {
    for (const url of config.llmBackends ?? []) await runtime.registerBackend({ baseUrl: url, kind: 'llm' });
    for (const url of config.embeddingBackends ?? []) await runtime.registerBackend({ baseUrl: url, kind: 'embedding' });
    if (preset) {
      log.info({ preset: preset.name, engines: preset.engines.map((e) => `${e.name}:${e.engine ?? e.kind}:${e.model}`) }, 'starting engines');
      const applied = await runtime.applyPreset(preset);
      if (!applied.ok) throw new Error(`preset ${preset.name}: engine ${applied.failed?.name} failed to start: ${applied.failed?.error}`);
    }
  } catch (err) {
    await runtime.close();
    throw err;
  }

  const app = await buildServer({
    manager: runtime.manager,
    engines: runtime.engines,
    auth: config.auth ?? authConfigFromEnv(),
    bodyLimit: config.bodyLimit,
    logger: log,
    version: config.version,
    plugins: [(a) => registerManagementRoutes(a, runtime)],
  });
  try {
    await app.listen({ host: config.host ?? '127.0.0.1', port: config.port ?? 8000 });
  } catch (err) {
    await runtime.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (config.port ?? 8000);
  const host = config.host && config.host !== '0.0.0.0' && config.host !== '::' ? config.host : '127.0.0.1';
  let closing: Promise<void> | undefined;
  return {
    app,
    runtime,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close(drainMs = 10_000) {
      closing ??= (async () => {
        // Stop accepting; fastify waits for in-flight requests, bounded by drainMs.
        const drained = app.close();
        const timeout = new Promise<void>((r) => setTimeout(r, drainMs).unref());
        await Promise.race([drained, timeout]);
        await runtime.close();
        await drained.catch(() => undefined);
      })();
      return closing;
    },
  };
}
