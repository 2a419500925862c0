// UnifiedInferenceClient (F-216). The only way to build one is `UnifiedInferenceClient.create()`:
//   controlPlaneUrl → talk to that running control plane over its OpenAI API;
//   embedded: true  → start an in-process control plane (the server's runtime: one PortAllocator, supervised
//                     engines) serving the built-in sim engines of the default preset;
//   neither         → detect a control plane (SAGE_UNIFIED_BASE_URL, then local probing), else embedded.
// The constructor is private in TypeScript and guarded by a module-private token at run time, so
// `new UnifiedInferenceClient()` from JavaScript throws. There is no createAuto / createWithControlPlane.
import { DEFAULT_HOSTS, DEFAULT_PROBE_TIMEOUT_MS, loadSageEnv, probeEndpoint, serverRootUrl } from '@sage/common';
import type { ChatMessageLike } from '../control-plane/types';
import type { SupervisorOptions } from '../engines/lifecycle';
import type { PortRanges } from '../engines/ports';
import { managerOptionsFrom, supervisorOptionsFrom } from '../settings/runtime-options';
import { resolveSettings } from '../settings/resolve';
import { SCHEDULING_SETTING_KEYS, type SchedulingSettingsInput } from '../settings/schema';
import type { Backend, CallOptions, EmbedOptions, InstanceInfo } from './backend';
import { EmbeddedBackend } from './embedded-backend';
import { planInstances, type InstanceDeclaration } from './instances';
import { RemoteBackend } from './remote-backend';

/**
 * Every scheduling setting of the control plane (settings/schema.ts) is an option of an embedded client:
 * schedulingPolicy, router, pdSeparation, embeddingBatchSize, maxQueueSize, autoRestart, ….
 */
export interface UnifiedClientOptions extends Partial<SchedulingSettingsInput> {
  /** URL of a running sage control plane (with or without /v1). */
  controlPlaneUrl?: string;
  /** Start an in-process control plane with the built-in engines. */
  embedded?: boolean;
  defaultLlmModel?: string;
  defaultEmbeddingModel?: string;
  /**
   * Instances of an in-process control plane (implies embedded): engines to start, supervised and stopped with
   * the client (`{ engine?, model, instanceType?, costPerHour?, machine?, nvlinkGroup?, … }`), and servers started
   * elsewhere to register (`{ url | host+port, models?, instanceType?, apiKey?, … }`). Replaces the default engines.
   */
  instances?: InstanceDeclaration[];
  /** Request timeout in seconds (default 60). */
  timeout?: number;
  /** API key for a remote control plane (default SAGE_UNIFIED_API_KEY). */
  apiKey?: string;
  /** Time scale of embedded sim engines: wall seconds per model second (0.1 is ten times faster). */
  simTimeScale?: number;
  /**
   * Port ranges of an embedded control plane's PortAllocator, which picks every engine port (default: the ranges
   * of docs/features.md, LLM 8001+, embedding 8090+, fallback 8900-8999). Tests give random ranges so parallel runs never meet.
   */
  portRanges?: Partial<PortRanges>;
  /** Health checks and auto-restart of an embedded control plane's engines (default: every 5 s, restart after 3 failures). */
  supervisor?: SupervisorOptions;
  /** Directory in which an embedded client makes its private state directory, removed on close() (default os.tmpdir()). */
  stateRoot?: string;
  /** Environment read for detection (default process.env). */
  env?: NodeJS.ProcessEnv;
}

const CONSTRUCT = Symbol('UnifiedInferenceClient.create');
const DEFAULT_LLM_MODEL = 'sage-sim-llm';
const DEFAULT_EMBEDDING_MODEL = 'sage-sim-embedding';
const CONTROL_PLANE_PORTS = [8000];

/**
 * A local sage control plane, recognised by @sage/common's probe (its /health or model metadata), or
 * undefined. Raw engines are ignored: a client that skipped the control plane would not be scheduled.
 */
async function probeLocalControlPlane(): Promise<string | undefined> {
  const urls = DEFAULT_HOSTS.flatMap((host) => CONTROL_PLANE_PORTS.map((port) => `http://${host}:${port}/v1`));
  const probes = await Promise.all(urls.map((url) => probeEndpoint(url, { timeoutMs: DEFAULT_PROBE_TIMEOUT_MS })));
  return probes.find((p) => p.ok && p.controlPlane)?.baseUrl;
}

export class UnifiedInferenceClient {
  private closed = false;
  private closing?: Promise<void>;

  private constructor(
    token: symbol,
    private readonly backend: Backend,
  ) {
    if (token !== CONSTRUCT) throw new TypeError('UnifiedInferenceClient has no public constructor: use UnifiedInferenceClient.create(options)');
  }

  static async create(options: UnifiedClientOptions = {}): Promise<UnifiedInferenceClient> {
    const env = options.env ?? process.env;
    const timeoutSec = options.timeout ?? 60;
    if (!(timeoutSec > 0)) throw new RangeError(`timeout must be a positive number of seconds, got ${String(options.timeout)}`);
    if (options.controlPlaneUrl && options.embedded) throw new Error('choose either controlPlaneUrl or embedded, not both');
    if (options.controlPlaneUrl && options.instances) throw new Error('instances start an in-process control plane: give either controlPlaneUrl or instances (register servers with a running one through its management API)');

    const remote = (baseUrl: string) =>
      new UnifiedInferenceClient(
        CONSTRUCT,
        new RemoteBackend({ baseUrl, apiKey: options.apiKey ?? loadSageEnv(env).unifiedApiKey, timeoutSec, defaultLlmModel: options.defaultLlmModel, defaultEmbeddingModel: options.defaultEmbeddingModel }),
      );
    if (options.controlPlaneUrl) return remote(options.controlPlaneUrl);

    if (!options.embedded && !options.instances) {
      const configured = loadSageEnv(env).unifiedBaseUrl;
      if (configured) return remote(serverRootUrl(configured));
      const local = await probeLocalControlPlane();
      if (local) return remote(local);
    }
    // defaults < SAGE_* environment < these options, validated like every other surface.
    const flags: Record<string, unknown> = Object.fromEntries(SCHEDULING_SETTING_KEYS.map((k) => [k, options[k]]));
    if (options.timeout !== undefined) flags.requestTimeoutMs ??= options.timeout * 1000;
    let resolved;
    try {
      resolved = resolveSettings({ env, flags }).settings;
    } catch (err) {
      throw new RangeError((err as Error).message);
    }
    const planned = options.instances ? planInstances(options.instances) : undefined;
    const backend = await EmbeddedBackend.start({
      scheduler: managerOptionsFrom(resolved),
      llmModel: options.defaultLlmModel ?? planned?.llmModel ?? DEFAULT_LLM_MODEL,
      embeddingModel: options.defaultEmbeddingModel ?? planned?.embeddingModel ?? DEFAULT_EMBEDDING_MODEL,
      preset: planned ? (planned.preset ?? false) : undefined,
      backends: planned?.backends,
      timeScale: options.simTimeScale,
      portRanges: options.portRanges,
      supervisor: { ...supervisorOptionsFrom(resolved), ...options.supervisor },
      stateRoot: options.stateRoot,
    });
    return new UnifiedInferenceClient(CONSTRUCT, backend);
  }

  /** 'remote' (a running control plane over HTTP) or 'embedded' (in-process). */
  get mode(): 'remote' | 'embedded' {
    return this.backend.mode;
  }

  private open(): Backend {
    if (this.closed) throw new Error('UnifiedInferenceClient is closed');
    return this.backend;
  }

  /** The assistant's reply to a conversation. */
  async chat(messages: ChatMessageLike[], opts: CallOptions = {}): Promise<string> {
    return this.open().chat(messages, opts);
  }

  /** Completion of a bare prompt. */
  async generate(prompt: string, opts: CallOptions = {}): Promise<string> {
    return this.open().generate(prompt, opts);
  }

  /** Text deltas of the reply, as they are produced. */
  async *stream(messages: ChatMessageLike[], opts: CallOptions = {}): AsyncIterable<string> {
    yield* this.open().stream(messages, opts);
  }

  /** One vector per text, in order. */
  async embed(texts: string | string[], opts: EmbedOptions = {}): Promise<number[][]> {
    return this.open().embed(Array.isArray(texts) ? texts : [texts], opts);
  }

  async getMetrics(): Promise<Record<string, unknown>> {
    return this.open().getMetrics();
  }

  async getInstances(): Promise<InstanceInfo[]> {
    return this.open().getInstances();
  }

  /**
   * Releases the client; in embedded mode stops the control plane and every engine it started and removes its
   * private state directory. Idempotent: every call resolves once the first one has finished.
   */
  close(): Promise<void> {
    this.closed = true;
    this.closing ??= this.backend.close();
    return this.closing;
  }
}
