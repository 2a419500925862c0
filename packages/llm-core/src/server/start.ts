// Starts a complete control plane: runtime (scheduler + engines), the embedded default or a preset, external
// backends, and the HTTP server. Used by `npm start`, the `sage` CLI and tests.
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import type { AccessLogLevel } from './access-log';
import { ControlPlaneRuntime, type RuntimeOptions } from '../runtime/control-plane-runtime';
import { resolveStartPreset, type Preset, type PresetApplyResult } from '../engines/presets';
import type { EngineInfo } from '../engines/lifecycle';
import { parseBackendSpec, type BackendDeclaration } from '../settings/backend';
import { resolveSettings, type SettingSources } from '../settings/resolve';
import { managerOptionsFrom, supervisorOptionsFrom } from '../settings/runtime-options';
import type { ControlPlaneSettings, ControlPlaneSettingsInput } from '../settings/schema';
import { buildServer } from './app';
import { authConfigFromEnv, type AuthConfig } from './auth';

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
  /** External servers: a URL, a `url=…,model=…,type=…,cost=…` spec, or a declaration. */
  llmBackends?: Array<string | BackendDeclaration>;
  embeddingBackends?: Array<string | BackendDeclaration>;
  /**
   * Scheduling, batching, PD separation, queue, timeout and restart settings (see settings/schema.ts). Layered
   * over the preset's `control_plane:` section; `policy` and `router` above win over these.
   */
  settings?: Partial<ControlPlaneSettingsInput>;
  /** Where each setting came from (the CLI resolves them), shown by GET /v1/management/settings. */
  settingSources?: Partial<SettingSources>;
  /**
   * Listen first, then start the preset's engines: /health shows them coming up, /health/ready turns 200 and
   * `ready` resolves once all are RUNNING; requests for their models wait meanwhile. Default: start them first.
   */
  deferPreset?: boolean;
  auth?: AuthConfig;
  /** Shared state between replicas: `local` (default) or redis://HOST:PORT[/DB] (see RuntimeOptions.stateStore). */
  stateStore?: string;
  bodyLimit?: number;
  runtime?: Omit<RuntimeOptions, 'logger'>;
  logger?: Logger;
  /** Level of the one access-log line per request (default info). */
  accessLogLevel?: AccessLogLevel;
  version?: string;
}

export interface RunningControlPlane {
  app: FastifyInstance;
  runtime: ControlPlaneRuntime;
  /** e.g. http://127.0.0.1:8000 */
  url: string;
  port: number;
  /** The preset served (undefined: none). */
  preset?: Preset;
  /** Effective scheduling settings and where each came from. */
  settings: ControlPlaneSettings;
  settingSources: SettingSources;
  /** Resolves once the preset's engines have started (at once unless deferPreset); ok false when one failed. */
  ready: Promise<PresetApplyResult<EngineInfo> | undefined>;
  /** Graceful: stop accepting, drain in-flight requests up to `drainMs`, stop launched engines. */
  close(drainMs?: number): Promise<void>;
}

const declaration = (b: string | BackendDeclaration): BackendDeclaration => (typeof b === 'string' ? parseBackendSpec(b) : b);

export async function startControlPlaneServer(config: ControlPlaneServerConfig = {}): Promise<RunningControlPlane> {
  const log = config.logger ?? pino({ level: 'silent' });
  const s = config.settings ?? {};
  const preset =
    resolveStartPreset({
      preset: config.preset ?? s.preset,
      llmModel: config.llmModel ?? s.llmModel,
      embeddingModel: config.embeddingModel ?? s.embeddingModel,
      llmBackends: config.llmBackends ?? s.llmBackends,
      embeddingBackends: config.embeddingBackends ?? s.embeddingBackends,
    }) || undefined;
  const resolved = resolveSettings({
    preset: preset?.controlPlane,
    flags: { ...config.settings, schedulingPolicy: config.policy ?? config.settings?.schedulingPolicy, router: config.router ?? config.settings?.router },
  });
  const settingSources = { ...resolved.sources, ...config.settingSources };
  const settings: ControlPlaneSettings = { ...resolved.settings, host: config.host ?? resolved.settings.host, port: config.port ?? resolved.settings.port };
  const llmBackends = (config.llmBackends ?? settings.llmBackends).map(declaration);
  const embeddingBackends = (config.embeddingBackends ?? settings.embeddingBackends).map(declaration);
  const runtime = await ControlPlaneRuntime.create({
    ...config.runtime,
    stateStore: config.runtime?.stateStore ?? config.stateStore ?? settings.stateStore,
    scheduler: { ...managerOptionsFrom(settings), ...config.runtime?.scheduler },
    supervisor: { ...supervisorOptionsFrom(settings), ...config.runtime?.supervisor },
    logger: log,
  });
  const startPreset = async (p: Preset): Promise<PresetApplyResult<EngineInfo>> => {
    log.info({ preset: p.name, engines: p.engines.map((e) => `${e.name}:${e.engine ?? e.kind}:${e.model}`) }, 'starting engines');
    return runtime.applyPreset(p);
  };
  let ready: Promise<PresetApplyResult<EngineInfo> | undefined> = Promise.resolve(undefined);
  try {
    const register = async (b: BackendDeclaration, kind: 'llm' | 'embedding') => {
      const { url, type, ...rest } = b;
      await runtime.registerBackend({ ...rest, baseUrl: url, kind, instanceType: type });
    };
    for (const b of llmBackends) await register(b, 'llm');
    for (const b of embeddingBackends) await register(b, 'embedding');
    if (preset && !config.deferPreset) {
      const applied = await startPreset(preset);
      if (!applied.ok) throw new Error(`preset ${preset.name}: engine ${applied.failed?.name} failed to start: ${applied.failed?.error}`);
      ready = Promise.resolve(applied);
    } else if (preset) {
      // Declared before listening, so a request for its models waits instead of 404 and /health/ready says 503.
      runtime.expectPreset(preset);
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
    accessLogLevel: config.accessLogLevel,
    version: config.version,
    readiness: {
      status: () => runtime.readinessStatus(),
      waitForModel: (model, category, signal) => runtime.waitForModel(model, category, settings.requestTimeoutMs, signal),
      servesNow: (model, category) => runtime.servesNow(model, category),
    },
    stateStore: runtime.shared,
    management: { runtime, settings: { settings, sources: settingSources } },
  });
  try {
    await app.listen({ host: settings.host, port: settings.port });
  } catch (err) {
    await runtime.close();
    throw err;
  }
  if (preset && config.deferPreset) {
    ready = startPreset(preset).catch((err: unknown) => {
      log.error({ err }, 'starting the preset failed');
      runtime.readiness.settle(false);
      return { preset: preset.name, ok: false, started: [], failed: { name: preset.name, error: (err as Error).message }, rolledBack: [], rollbackErrors: [] };
    });
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : settings.port;
  const host = settings.host !== '0.0.0.0' && settings.host !== '::' ? settings.host : '127.0.0.1';
  let closing: Promise<void> | undefined;
  return {
    app,
    runtime,
    port,
    preset,
    settings: { ...settings, port },
    settingSources,
    ready,
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
