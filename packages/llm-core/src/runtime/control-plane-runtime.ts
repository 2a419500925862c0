// The running control plane: the scheduler (ControlPlaneManager) plus what it needs to own engines — the
// one PortAllocator, the GPU manager, the EngineLifecycleManager and the auto-restart supervisor — and the
// bridge between them: an engine that reaches RUNNING becomes a scheduling instance with the same id, a
// registered external backend becomes one too, and stopping either takes it out of rotation first.
import pino, { type Logger } from 'pino';
import { normalizeBaseUrl, probeEndpoint, SageError } from '@sage/common';
import { ControlPlaneManager, type ControlPlaneManagerOptions } from '../control-plane/manager';
import { createStateStore, SharedStateSync, type StateStore, type StateStoreTuning } from '../control-plane/state';
import { InstanceType, type ExecutionInstance } from '../control-plane/types';
import { GPUResourceManager } from '../engines/gpu';
import { EngineLifecycleManager, EngineSupervisor, type EngineInfo, type EngineStartSpec, type SupervisorOptions } from '../engines/lifecycle';
import { PortAllocator, type PortRanges } from '../engines/ports';
import { applyPreset, presetEngineAttributes, presetEngineToStartSpec, type Preset, type PresetApplyResult } from '../engines/presets';
import { defaultEngineFor, type EngineCategory } from '../engines/kinds';
import { topologyOf, type InstanceAttributes, type Placement } from '../settings/attributes';
import { PresetReadiness, type ModelWait, type ReadinessStatus } from './readiness';

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
  /**
   * Where replicas share instances, slots, health, circuits and affinity: `local` (default: this process alone),
   * `redis://HOST:PORT[/DB]`, or a store made elsewhere. A bad address throws before anything starts.
   */
  stateStore?: string | StateStore;
  /** Lease TTL, heartbeat and polling of a shared store (defaults: 3 s TTL, renewed every 750 ms). */
  stateStoreOptions?: StateStoreTuning;
  logger?: Logger;
}

export interface BackendRegistration extends Placement {
  baseUrl: string;
  kind?: 'llm' | 'embedding';
  id?: string;
  models?: string[];
  apiKey?: string;
  instanceType?: InstanceType;
  maxConcurrency?: number;
}

export class BackendRegistrationError extends SageError {
  constructor(message: string, status: number, code: string) {
    super(message, { status, code });
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
  /** The state this replica shares with others (a no-op with the local store). */
  readonly shared: SharedStateSync;
  private readonly log: Logger;
  private readonly simTimeScale?: number;
  /** Registered external backends (ids), which have no process of their own. */
  private readonly backends = new Set<string>();
  /** Price, topology and API key of engines by id, applied whenever the engine (re)joins rotation. */
  private readonly attributes = new Map<string, InstanceAttributes>();
  /** Whether every engine of the preset being served is RUNNING and registered. */
  readonly readiness: PresetReadiness;
  private closed = false;

  private constructor(options: RuntimeOptions, engines: EngineLifecycleManager, ports: PortAllocator, gpus: GPUResourceManager, store: StateStore) {
    this.log = options.logger ?? pino({ level: 'silent' });
    this.manager = new ControlPlaneManager({ logger: this.log.child({ component: 'scheduler' }), sharedSlots: store, ...options.scheduler });
    this.shared = new SharedStateSync({ store, manager: this.manager, logger: this.log.child({ component: 'state-store' }) });
    this.ports = ports;
    this.gpus = gpus;
    this.engines = engines;
    this.simTimeScale = options.simTimeScale;
    this.supervisor = new EngineSupervisor(engines, { logger: this.log.child({ component: 'supervisor' }), ...options.supervisor });
    this.readiness = new PresetReadiness({ engineState: (id) => engines.getEngine(id)?.state, registered: (id) => this.manager.registry.get(id) !== undefined });
    // An engine out of RUNNING (restarting, stopping, failed) leaves rotation at once; back in RUNNING it returns
    // under the same id, so a restart heals without re-registration and without requests routed to a dead port.
    engines.onStateChange((change) => {
      this.readiness.changed();
      if (!this.manager.registry.get(change.id)) return;
      if (change.to === 'RUNNING') this.manager.markHealthy(change.id);
      else this.manager.markUnhealthy(change.id);
    });
  }

  static async create(options: RuntimeOptions = {}): Promise<ControlPlaneRuntime> {
    const log = options.logger ?? pino({ level: 'silent' });
    const store = typeof options.stateStore === 'object' ? options.stateStore : createStateStore(options.stateStore, { ...options.stateStoreOptions, logger: log.child({ component: 'state-store' }) });
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
    const runtime = new ControlPlaneRuntime(options, engines, ports, gpus, store);
    // Instances other replicas serve are known before this one announces its own.
    await runtime.shared.start();
    // Engines adopted from an earlier run serve again at once.
    for (const info of engines.listEngines()) if (info.state === 'RUNNING') runtime.registerEngine(info);
    if (recovered.adopted.length || recovered.stopped.length) log.info({ recovered }, 'engines left by an earlier run');
    runtime.supervisor.start();
    return runtime;
  }

  private registerEngine(info: EngineInfo): ExecutionInstance {
    if (this.manager.registry.get(info.id)) this.manager.unregisterInstance(info.id);
    const attrs = this.attributes.get(info.id) ?? {};
    const inst = this.manager.registerInstance({
      id: info.id,
      baseUrl: info.baseUrl,
      models: [info.model],
      type: instanceTypeOf(info),
      gpuCount: info.gpuIds.length,
      gpuIds: info.gpuIds,
      maxConcurrency: typeof info.metadata?.maxConcurrentRequests === 'number' ? info.metadata.maxConcurrentRequests : (info.maxConcurrentRequests ?? undefined),
      costPerHour: attrs.costPerHour,
      topology: topologyOf(attrs),
      apiKey: attrs.apiKey,
      health: 'healthy',
    });
    this.readiness.changed();
    this.shared.announce(inst.id, 'engine');
    return inst;
  }

  /**
   * Starts an engine (ports and GPUs from their managers) and puts it into rotation once RUNNING, with its
   * price, topology and API key (`attributes`) on the scheduling instance.
   */
  async startEngine(spec: EngineStartSpec, attributes?: InstanceAttributes): Promise<EngineInfo> {
    if (spec.id && attributes) this.attributes.set(spec.id, attributes);
    const withScale = spec.timeScale === undefined && this.simTimeScale !== undefined && spec.kind.startsWith('sim-') ? { ...spec, timeScale: this.simTimeScale } : spec;
    const info = await this.engines.start({ ...withScale, metadata: { ...withScale.metadata, maxConcurrentRequests: spec.maxConcurrentRequests } });
    if (!spec.id && attributes) this.attributes.set(info.id, attributes);
    this.registerEngine(info);
    return info;
  }

  /** Takes an engine out of rotation, optionally waits for its requests to finish, then stops it. */
  async stopEngine(id: string, options: { drain?: boolean; drainTimeoutMs?: number } = {}): Promise<EngineInfo | undefined> {
    if (this.isBackend(id)) {
      this.backends.delete(id);
      this.manager.unregisterInstance(id);
      this.shared.withdraw(id);
      return undefined;
    }
    this.manager.markUnhealthy(id);
    if (options.drain) await this.drainInstance(id, options.drainTimeoutMs ?? 30_000);
    this.manager.unregisterInstance(id);
    if (this.engines.getEngine(id)) this.shared.withdraw(id);
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
    let baseUrl: string;
    try {
      baseUrl = normalizeBaseUrl(reg.baseUrl);
    } catch {
      throw new BackendRegistrationError(`backend base URL "${reg.baseUrl}" is not a URL`, 400, 'invalid_base_url');
    }
    let models = reg.models;
    let kind = reg.kind;
    if (!models?.length || !kind) {
      const probe = await probeEndpoint(baseUrl, { apiKey: reg.apiKey, timeoutMs: 5000 });
      if (!probe.ok) throw new BackendRegistrationError(`backend ${reg.baseUrl} did not answer /v1/models: ${probe.error}`, 503, 'backend_unreachable');
      models = models?.length ? models : probe.models.map((m) => m.id);
      kind = kind ?? (probe.models.every((m) => m.kind === 'embedding') ? 'embedding' : 'llm');
    }
    if (!models.length) throw new BackendRegistrationError(`backend ${reg.baseUrl} serves no model`, 400, 'no_models');
    if (reg.id && this.manager.registry.get(reg.id)) throw new BackendRegistrationError(`an instance with id ${reg.id} is already registered`, 409, 'already_registered');
    const duplicate = this.manager.getInstances().find((i) => i.baseUrl === baseUrl);
    if (duplicate) throw new BackendRegistrationError(`${reg.baseUrl} is already registered as ${duplicate.id}`, 409, 'already_registered');
    const inst = this.manager.registerInstance({
      id: reg.id,
      baseUrl: reg.baseUrl,
      models,
      type: reg.instanceType ?? (kind === 'embedding' ? InstanceType.EMBEDDING : InstanceType.GENERAL),
      apiKey: reg.apiKey,
      maxConcurrency: reg.maxConcurrency,
      costPerHour: reg.costPerHour,
      topology: topologyOf(reg),
      health: 'healthy',
    });
    this.backends.add(inst.id);
    this.shared.announce(inst.id, 'backend');
    return inst;
  }

  /** A registered backend (through this replica or, with a shared store, through any). */
  isBackend(id: string): boolean {
    return this.backends.has(id) || this.shared.originOf(id)?.origin === 'backend';
  }

  /** The replica that launched `id`, when it is an engine another replica runs (shared store only). */
  engineOwner(id: string): string | undefined {
    const o = this.shared.originOf(id);
    return o && !o.own && o.origin === 'engine' ? o.replicaId : undefined;
  }

  /**
   * Declares the preset this control plane serves before its engines start: readiness waits for them, and
   * requests for their models wait while they start (see readiness.ts).
   */
  expectPreset(preset: Preset): void {
    this.readiness.expect(preset.engines.map((e) => ({ id: presetEngineToStartSpec(preset.name, e).id ?? e.name, model: e.model, category: e.kind })));
  }

  /**
   * Starts a preset's engines in order, rolling back the started ones on failure unless told not to. Engines of
   * the same ids already RUNNING (adopted from an earlier run) are kept, not started twice.
   */
  async applyPreset(preset: Preset, options: { rollback?: boolean } = {}): Promise<PresetApplyResult<EngineInfo>> {
    this.expectPreset(preset);
    for (const e of preset.engines) {
      if (e.engine) continue;
      const choice = defaultEngineFor(e.kind);
      const line = { preset: preset.name, engine: e.name, chosen: choice.engine, reason: choice.reason };
      if (choice.simulated) this.log.info(line, `engine ${e.name} names no engine: ${choice.reason}`);
      else this.log.info(line, `engine ${e.name} names no engine: ${choice.engine} (${choice.reason})`);
    }
    const result = await applyPreset<EngineInfo>(preset, {
      rollback: options.rollback,
      start: (spec, index) => {
        const attributes = presetEngineAttributes(preset.engines[index]!);
        const running = spec.id ? this.engines.getEngine(spec.id) : undefined;
        if (running?.state === 'RUNNING') {
          this.attributes.set(running.id, attributes);
          this.registerEngine(running);
          return Promise.resolve(running);
        }
        return this.startEngine(spec, attributes);
      },
      stop: async (info) => {
        await this.stopEngine(info.id);
        await this.engines.remove(info.id).catch(() => undefined);
      },
    });
    this.readiness.settle(result.ok);
    return result;
  }

  /** Ready: every engine of the preset served is RUNNING and registered. */
  readinessStatus(): ReadinessStatus {
    return this.readiness.status();
  }

  /**
   * Before a request for `model` is refused as unknown: when no registered instance serves it yet but an engine
   * of the preset will, waits for that engine (up to `timeoutMs`).
   */
  async waitForModel(model: string | undefined, category: EngineCategory, timeoutMs: number, signal?: AbortSignal): Promise<ModelWait> {
    if (this.servesNow(model, category)) return 'served';
    return this.readiness.waitForModel(model, category, timeoutMs, signal);
  }

  /** Whether a registered instance serves `model` (of `category`) now. */
  servesNow(model: string | undefined, category: EngineCategory): boolean {
    // The registry's own records (no copies, no closure): this runs for every request.
    for (const i of this.manager.registry.all()) {
      const ofCategory = category === 'embedding' ? i.type === InstanceType.EMBEDDING || i.type === InstanceType.LLM_EMBEDDING : i.type !== InstanceType.EMBEDDING;
      if (ofCategory && (!model || i.models.includes(model) || i.models.includes('*'))) return true;
    }
    return false;
  }

  /** Turns prefill/decode separation on or off while serving (a preset applied later may ask for it). */
  setPdSeparation(enabled: boolean): void {
    this.manager.setPdSeparation({ enabled });
  }

  /** Stops scheduling, the supervisor and every engine this control plane launched. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.supervisor.stop();
    // Other replicas stop routing to this one's engines before they go.
    this.shared.retireEngines();
    await this.manager.close();
    await this.engines.stopAll();
    await this.shared.close();
  }
}
