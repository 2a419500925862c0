// The running control plane: the scheduler (ControlPlaneManager) plus what it needs to own engines — the
// one PortAllocator, the GPU manager, the EngineLifecycleManager and the auto-restart supervisor — and the
// bridge between them: an engine that reaches RUNNING becomes a scheduling instance with the same id, a
// registered external backend becomes one too, and stopping either takes it out of rotation first.
import pino, { type Logger } from 'pino';
import { probeEndpoint } from '@sage/common';
import { ControlPlaneManager, type ControlPlaneManagerOptions } from '../control-plane/manager';
import { InstanceType, type ExecutionInstance } from '../control-plane/types';
import { GPUResourceManager } from '../engines/gpu';
import { EngineLifecycleManager, EngineSupervisor, type EngineInfo, type EngineStartSpec, type SupervisorOptions } from '../engines/lifecycle';
import { PortAllocator, type PortRanges } from '../engines/ports';
import { applyPreset, type Preset, type PresetApplyResult } from '../engines/presets';

export interface RuntimeOptions {
  scheduler?: ControlPlaneManagerOptions;
  sageHome?: string;
  portRanges?: Partial<PortRanges>;
  /** Environment read for GPU mock mode (SAGE_GPU_MOCK_COUNT, SAGE_GPU_MOCK_MEMORY_GB); default process.env. */
  gpuEnv?: NodeJS.ProcessEnv;
  supervisor?: SupervisorOptions;
  /** Engine start-up timeout, ms (default 180 s; sim engines start in well under a second). */
  engineStartupTimeoutMs?: number;
  engineStopGraceMs?: number;
  /** Time scale passed to built-in sim engines that do not set their own. */
  simTimeScale?: number;
  logger?: Logger;
}

export interface BackendRegistration {
  baseUrl: string;
  kind?: 'llm' | 'embedding';
  id?: string;
  models?: string[];
  apiKey?: string;
  instanceType?: InstanceType;
  maxConcurrency?: number;
}

export class BackendRegistrationError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
    this.name = 'BackendRegistrationError';
  }
}

function instanceTypeOf(info: Pick<EngineInfo, 'category' | 'instanceType'>): InstanceType {
  if (info.category === 'embedding') return InstanceType.EMBEDDING;
  return info.instanceType ?? InstanceType.GENERAL;
}

export class ControlPlaneRuntime {
  readonly manager: ControlPlaneManager;
  readonly ports: PortAllocator;
  readonly gpus: GPUResourceManager;
  readonly engines: EngineLifecycleManager;
  readonly supervisor: EngineSupervisor;
  private readonly log: Logger;
  private readonly simTimeScale?: number;
  /** Registered external backends (ids), which have no process of their own. */
  private readonly backends = new Set<string>();
  private closed = false;

  private constructor(options: RuntimeOptions, engines: EngineLifecycleManager, ports: PortAllocator, gpus: GPUResourceManager) {
    this.log = options.logger ?? pino({ level: 'silent' });
    this.manager = new ControlPlaneManager({ logger: this.log.child({ component: 'scheduler' }), ...options.scheduler });
    this.ports = ports;
    this.gpus = gpus;
    this.engines = engines;
    this.simTimeScale = options.simTimeScale;
    this.supervisor = new EngineSupervisor(engines, { logger: this.log.child({ component: 'supervisor' }), ...options.supervisor });
    // An engine out of RUNNING (restarting, stopping, failed) leaves rotation at once; back in RUNNING it returns
    // under the same id, so a restart heals without re-registration and without requests routed to a dead port.
    engines.onStateChange((change) => {
      if (!this.manager.registry.get(change.id)) return;
      if (change.to === 'RUNNING') this.manager.markHealthy(change.id);
      else this.manager.markUnhealthy(change.id);
    });
  }

  static async create(options: RuntimeOptions = {}): Promise<ControlPlaneRuntime> {
    const log = options.logger ?? pino({ level: 'silent' });
    const ports = new PortAllocator({ ranges: options.portRanges });
    const gpus = new GPUResourceManager({ env: options.gpuEnv });
    await gpus.refresh();
    const { manager: engines, recovered } = await EngineLifecycleManager.create({
      ports,
      gpus,
      sageHome: options.sageHome,
      logger: log.child({ component: 'engines' }),
      startupTimeoutMs: options.engineStartupTimeoutMs,
      stopGraceMs: options.engineStopGraceMs,
    });
    const runtime = new ControlPlaneRuntime(options, engines, ports, gpus);
    // Engines adopted from an earlier run serve again at once.
    for (const info of engines.listEngines()) if (info.state === 'RUNNING') runtime.registerEngine(info);
    if (recovered.adopted.length || recovered.stopped.length) log.info({ recovered }, 'engines left by an earlier run');
    runtime.supervisor.start();
    return runtime;
  }

  private registerEngine(info: EngineInfo): ExecutionInstance {
    if (this.manager.registry.get(info.id)) this.manager.unregisterInstance(info.id);
    return this.manager.registerInstance({
      id: info.id,
      baseUrl: info.baseUrl,
      models: [info.model],
      type: instanceTypeOf(info),
      gpuCount: info.gpuIds.length,
      gpuIds: info.gpuIds,
      maxConcurrency: typeof info.metadata?.maxConcurrentRequests === 'number' ? info.metadata.maxConcurrentRequests : undefined,
      health: 'healthy',
    });
  }

  /** Starts an engine (ports and GPUs from their managers) and puts it into rotation once RUNNING. */
  async startEngine(spec: EngineStartSpec): Promise<EngineInfo> {
    const withScale = spec.timeScale === undefined && this.simTimeScale !== undefined && spec.kind.startsWith('sim-') ? { ...spec, timeScale: this.simTimeScale } : spec;
    const info = await this.engines.start({ ...withScale, metadata: { ...withScale.metadata, maxConcurrentRequests: spec.maxConcurrentRequests } });
    this.registerEngine(info);
    return info;
  }

  /** Takes an engine out of rotation, optionally waits for its requests to finish, then stops it. */
  async stopEngine(id: string, options: { drain?: boolean; drainTimeoutMs?: number } = {}): Promise<EngineInfo | undefined> {
    if (this.backends.has(id)) {
      this.backends.delete(id);
      this.manager.unregisterInstance(id);
      return undefined;
    }
    this.manager.markUnhealthy(id);
    if (options.drain) await this.drainInstance(id, options.drainTimeoutMs ?? 30_000);
    this.manager.unregisterInstance(id);
    return this.engines.stop(id);
  }

  private async drainInstance(id: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const inst = this.manager.getInstances().find((i) => i.id === id);
      if (!inst || inst.load.activeRequests === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Adds an engine started elsewhere (a vLLM, TEI, a cloud API); its models are read from /v1/models unless given. */
  async registerBackend(reg: BackendRegistration): Promise<ExecutionInstance> {
    let models = reg.models;
    let kind = reg.kind;
    if (!models?.length || !kind) {
      const base = reg.baseUrl.replace(/\/+$/, '');
      const probe = await probeEndpoint(/\/v1$/.test(base) ? base : `${base}/v1`, { apiKey: reg.apiKey, timeoutMs: 5000 });
      if (!probe.ok) throw new BackendRegistrationError(`backend ${reg.baseUrl} did not answer /v1/models: ${probe.error}`, 503, 'backend_unreachable');
      models = models?.length ? models : probe.models.map((m) => m.id);
      kind = kind ?? (probe.models.every((m) => m.kind === 'embedding') ? 'embedding' : 'llm');
    }
    if (!models.length) throw new BackendRegistrationError(`backend ${reg.baseUrl} serves no model`, 400, 'no_models');
    if (reg.id && this.manager.registry.get(reg.id)) throw new BackendRegistrationError(`an instance with id ${reg.id} is already registered`, 409, 'already_registered');
    const duplicate = this.manager.getInstances().find((i) => i.baseUrl.replace(/\/v1$/, '') === reg.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, ''));
    if (duplicate) throw new BackendRegistrationError(`${reg.baseUrl} is already registered as ${duplicate.id}`, 409, 'already_registered');
    const inst = this.manager.registerInstance({
      id: reg.id,
      baseUrl: reg.baseUrl,
      models,
      type: reg.instanceType ?? (kind === 'embedding' ? InstanceType.EMBEDDING : InstanceType.GENERAL),
      apiKey: reg.apiKey,
      maxConcurrency: reg.maxConcurrency,
      health: 'healthy',
    });
    this.backends.add(inst.id);
    return inst;
  }

  isBackend(id: string): boolean {
    return this.backends.has(id);
  }

  /** Starts a preset's engines in order, rolling back the started ones on failure unless told not to. */
  async applyPreset(preset: Preset, options: { rollback?: boolean } = {}): Promise<PresetApplyResult<EngineInfo>> {
    return applyPreset<EngineInfo>(preset, {
      rollback: options.rollback,
      start: (spec) => this.startEngine(spec),
      stop: async (info) => {
        await this.stopEngine(info.id);
        await this.engines.remove(info.id).catch(() => undefined);
      },
    });
  }

  /** Stops scheduling, the supervisor and every engine this control plane launched. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.supervisor.stop();
    await this.manager.close();
    await this.engines.stopAll();
  }
}
