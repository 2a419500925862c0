// ControlPlaneManager (F-203): the instance registry, a bounded queue, and a dispatch loop run on events
// (a request arrives, a request finishes, an instance changes) — never on a polling sleep. Each run hands
// the policy a snapshot; every decision is applied to the queued request WITH THAT ID (Map lookup), and
// only after checking that its instance still exists, is healthy, has a free slot and serves the request.
// Admission control rejects at once what cannot be served. Embeddings go through the batcher (F-206),
// long prompts through prefill/decode separation (F-207), and every upstream call through the executor (F-208).
import { EventEmitter, setMaxListeners } from 'node:events';
import pino, { type Logger } from 'pino';
import { requestClassifier } from '../classifier';
import { createLatencyEstimator } from '../estimator';
import { createRouter } from '../routing';
import type { EmbeddingBatchOptions, EmbeddingBatchOutput } from '../batching';
import { CircuitBreaker, EngineExecutor, type CircuitBreakerOptions } from '../executor';
import { buildDecodePayload, buildPrefillPayload, extractKvTransferParams, shouldSeparate, type PdOptions } from '../pd';
import {
  InstanceType,
  RequestStatus,
  RequestType,
  type ExecutionInstance,
  type LatencyEstimator,
  type RequestMetadata,
  type RoutingStrategy,
  type SchedulingDecision,
  type SchedulingPolicy,
} from '../types';
import { ControlPlaneError, RequestCancelledError, RequestRejectedError, UpstreamError } from './errors';
import { admissionRefusal } from './admission';
import { EmbeddingRequests } from './embedding-requests';
import { DeferredTimers } from './deferred-timers';
import { EngineHealthProber } from './engine-health-prober';
import { startEngineMetricsPolling } from './engine-metrics-poller';
import { toRequestRecord, type RecordFields } from './request-record';
import { InstanceRegistry, type InstanceSpec } from './registry';
import { resolvePolicy } from './resolve-policy';
import { MetricsCollector, type MetricsSnapshot, type RequestRecord } from '../metrics';
import type { PolicyOptions } from '../policies';
import { llmPath, llmPayload, toMetadata, type InferenceRequest, type InferenceResult, type InferenceStream } from './request';

export interface ControlPlaneManagerOptions {
  /** A policy name (fifo, priority, slo_aware, cost_optimized, adaptive, hybrid) or instance. Unknown names throw. */
  policy?: string | SchedulingPolicy;
  /** Options for a policy given by name (aging, onInfeasible, llmFallbackPolicy, …). */
  policyOptions?: PolicyOptions;
  /** A routing strategy name or instance (default load_balanced). Unknown names throw. */
  router?: string | RoutingStrategy;
  estimator?: LatencyEstimator;
  /** Requests waiting in the queue before new ones are refused with queue_full (default 1000). */
  maxQueueSize?: number;
  enablePdSeparation?: boolean;
  /** Minimum prompt tokens for prefill/decode separation (default 256). */
  pdMinInputTokens?: number;
  /** Minimum prompt/output token ratio for separation (default 1). */
  pdMinInputOutputRatio?: number;
  /** Embedding batching; `enabled: false` sends each request alone. */
  embedding?: EmbeddingBatchOptions & { enabled?: boolean };
  /** Per upstream call, ms (default 60 000). */
  requestTimeoutMs?: number;
  /**
   * Longest a request may wait in the queue (default 60 000 ms; 0 = no bound). Past it the request is refused
   * with 503 queue_timeout instead of waiting for an instance that may never come back.
   */
  maxQueueWaitMs?: number;
  /** Instances tried per request for failures before the first byte (default 3). */
  maxAttempts?: number;
  circuitBreaker?: Omit<CircuitBreakerOptions, 'now'>;
  /** How often an engine found down is probed on /health, ms (default 1000). */
  healthProbeIntervalMs?: number;
  /** Poll each engine's /metrics for its queue and KV-cache use every N ms (0 = off, the default). */
  engineMetricsPollMs?: number;
  instances?: InstanceSpec[];
  logger?: Logger;
}

export interface ManagerStatus {
  policy: string;
  router: string;
  queueLength: number;
  running: number;
  instances: Array<ExecutionInstance & { circuit: string }>;
}

type Mode = 'json' | 'stream' | 'embedding';

interface Pending {
  meta: RequestMetadata;
  mode: Mode;
  extra?: Record<string, unknown>;
  signal?: AbortSignal;
  excluded: Set<string>;
  attempts: number;
  resolve: (v: InferenceResult | InferenceStream | EmbeddingBatchOutput) => void;
  reject: (e: unknown) => void;
  detachAbort: () => void;
  decision?: SchedulingDecision;
  /** Fires at the queue-wait bound; cleared when the request leaves the queue. */
  queueTimer?: NodeJS.Timeout;
}

const DEFAULT_MAX_TOKENS = 256;

/** Emits `finished` with the metrics record of every request that reached an end (F-209). */
export class ControlPlaneManager extends EventEmitter<{ finished: [RequestRecord] }> {
  readonly registry = new InstanceRegistry();
  readonly metrics = new MetricsCollector();
  readonly policy: SchedulingPolicy;
  readonly router: RoutingStrategy;
  private readonly estimator: LatencyEstimator;
  private readonly executor: EngineExecutor;
  private readonly embeddings: EmbeddingRequests;
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly queue = new Map<string, Pending>();
  private readonly running = new Map<string, Pending>();
  private readonly pd: PdOptions;
  private readonly log: Logger;
  private readonly opts: { maxQueueSize: number; requestTimeoutMs: number; maxQueueWaitMs: number; maxAttempts: number; healthProbeIntervalMs: number; breaker: Omit<CircuitBreakerOptions, 'now'> };
  private readonly timers = new DeferredTimers();
  private readonly prober: EngineHealthProber;
  private readonly shutdown = new AbortController();
  private dispatchScheduled = false;
  private orphanCheckDue = false;
  private closed = false;

  constructor(options: ControlPlaneManagerOptions = {}) {
    super();
    // Resolve names first: an unknown policy or router is an error, not a silent default.
    this.policy = resolvePolicy(options.policy ?? 'adaptive', options.policyOptions);
    this.router = typeof options.router === 'object' ? options.router : createRouter(options.router ?? 'load_balanced');
    this.estimator = options.estimator ?? createLatencyEstimator();
    this.log = options.logger ?? pino({ name: 'control-plane', level: process.env.SAGE_LOG_LEVEL ?? 'silent' });
    this.opts = {
      maxQueueSize: options.maxQueueSize ?? 1000,
      requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
      maxQueueWaitMs: options.maxQueueWaitMs ?? 60_000,
      maxAttempts: Math.max(1, options.maxAttempts ?? 3),
      healthProbeIntervalMs: options.healthProbeIntervalMs ?? 1000,
      breaker: options.circuitBreaker ?? {},
    };
    this.pd = {
      enabled: options.enablePdSeparation ?? false,
      minInputTokens: options.pdMinInputTokens ?? 256,
      minInputOutputRatio: options.pdMinInputOutputRatio ?? 1,
    };
    this.executor = new EngineExecutor({ requestTimeoutMs: this.opts.requestTimeoutMs });
    this.prober = new EngineHealthProber({ registry: this.registry, executor: this.executor, timers: this.timers, intervalMs: this.opts.healthProbeIntervalMs, onRecovered: (id) => this.markHealthy(id) });
    // Every open stream listens for shutdown (and removes its listener when it ends): not a leak, however many.
    setMaxListeners(0, this.shutdown.signal);
    this.embeddings = new EmbeddingRequests({
      batching: options.embedding ?? {},
      enqueue: (meta, request) => this.enqueue(meta, 'embedding', request, true) as Promise<EmbeddingBatchOutput>,
      record: (meta, fields) => this.record(meta, fields),
      policyName: () => this.policy.name,
    });

    this.registry.on('change', (reason, id) => {
      if (reason === 'registered' || reason === 'unregistered') this.router.onInstancesChanged?.(this.registry.snapshot());
      if (reason === 'unregistered') {
        this.breakers.delete(id);
        this.orphanCheckDue = true;
      }
      this.kick();
    });
    for (const spec of options.instances ?? []) this.registerInstance(spec);
    if (options.engineMetricsPollMs && options.engineMetricsPollMs > 0) startEngineMetricsPolling(this.registry, this.executor, this.timers, options.engineMetricsPollMs);
  }

  // ---------------------------------------------------------------- registry

  registerInstance(spec: InstanceSpec): ExecutionInstance {
    return this.registry.register(spec);
  }

  unregisterInstance(id: string): boolean {
    const inst = this.registry.get(id);
    const ok = this.registry.unregister(id);
    // Pools are per origin: keep it while another registration points at the same engine.
    const origin = (i: ExecutionInstance) => new URL(i.baseUrl).origin;
    if (inst && !this.registry.all().some((o) => origin(o) === origin(inst))) void this.executor.forget(inst);
    return ok;
  }

  markHealthy(id: string): void {
    this.breaker(id).onSuccess();
    this.registry.setHealth(id, 'healthy');
  }

  markUnhealthy(id: string): void {
    this.registry.setHealth(id, 'unhealthy');
  }

  /** Instances with live load and circuit state; no back-end keys. */
  getInstances(): Array<ExecutionInstance & { circuit: string }> {
    return this.registry.snapshot().map((i) => ({ ...i, circuit: this.breaker(i.id).currentState }));
  }

  status(): ManagerStatus {
    return { policy: this.policy.name, router: this.router.name, queueLength: this.queue.size, running: this.running.size, instances: this.getInstances() };
  }

  get queueLength(): number {
    return this.queue.size;
  }

  /** Ids of the requests waiting in the queue, in arrival order (for status and tests). */
  queuedRequestIds(): string[] {
    return [...this.queue.values()].sort((a, b) => a.meta.timestamps.arrival - b.meta.timestamps.arrival).map((p) => p.meta.id);
  }

  private breaker(id: string): CircuitBreaker {
    let b = this.breakers.get(id);
    if (!b) {
      b = new CircuitBreaker(this.opts.breaker);
      // Outcomes that arrive after an instance was unregistered (or ids never registered) must not refill the map.
      if (this.registry.get(id)) this.breakers.set(id, b);
    }
    return b;
  }

  // ---------------------------------------------------------------- public request API

  /** Runs a request to completion and returns the engine's OpenAI JSON (embeddings: the caller's own list). */
  async submit(request: InferenceRequest): Promise<InferenceResult> {
    const meta = this.admit(request);
    if (meta.type === RequestType.EMBEDDING) return this.embeddings.submit(meta, request);
    return (await this.enqueue(meta, 'json', request)) as InferenceResult;
  }

  /** Starts a streaming LLM request; resolves once the engine's first chunk is in hand (see InferenceStream). */
  async submitStream(request: InferenceRequest): Promise<InferenceStream> {
    const meta = this.admit(request);
    if (meta.type === RequestType.EMBEDDING) throw new RequestRejectedError('invalid_request', 'embedding requests cannot stream', meta.id);
    return (await this.enqueue(meta, 'stream', request)) as InferenceStream;
  }

  /** Admission control: everything that can be refused at once is refused here, with a reason. */
  private admit(request: InferenceRequest): RequestMetadata {
    if (this.closed) throw new RequestRejectedError('shutting_down', 'control plane is shutting down', request.id, 1);
    const meta = toMetadata(request, Date.now());
    if (request.signal?.aborted) throw new RequestCancelledError(meta.id);

    const refusal = admissionRefusal(meta, { instances: this.registry.all(), queueSize: () => this.queue.size, maxQueueSize: this.opts.maxQueueSize, estimator: this.estimator, dispatchNow: () => this.dispatch() });
    if (refusal instanceof RequestRejectedError) throw this.rejected(meta, refusal);
    if (refusal) throw refusal;
    return meta;
  }

  /** A refusal at admission still counts: in the rejections by code and, with a deadline, as an SLO miss. */
  private rejected(meta: RequestMetadata, err: RequestRejectedError): RequestRejectedError {
    this.record(meta, { outcome: 'rejected', errorCode: err.code, e2eMs: 0, completionTokens: 0 });
    return err;
  }

  private enqueue(meta: RequestMetadata, mode: Mode, request: Pick<InferenceRequest, 'extraBody' | 'signal'>, internal = false): Promise<InferenceResult | InferenceStream | EmbeddingBatchOutput> {
    if (!internal && this.queue.size >= this.opts.maxQueueSize) {
      return Promise.reject(new RequestRejectedError('queue_full', `queue is full (${this.queue.size} requests waiting)`, meta.id, 1));
    }
    return new Promise((resolve, reject) => {
      const p: Pending = { meta, mode, extra: request.extraBody, signal: request.signal, excluded: new Set(), attempts: 0, resolve, reject, detachAbort: () => undefined };
      if (request.signal) {
        const onAbort = () => this.cancelQueued(p);
        request.signal.addEventListener('abort', onAbort, { once: true });
        p.detachAbort = () => request.signal?.removeEventListener('abort', onAbort);
      }
      const detach = p.detachAbort;
      p.detachAbort = () => {
        clearTimeout(p.queueTimer);
        detach();
      };
      this.armQueueTimer(p);
      meta.status = RequestStatus.QUEUED;
      meta.timestamps.queued = Date.now();
      this.queue.set(meta.id, p);
      this.kick();
    });
  }

  private armQueueTimer(p: Pending): void {
    clearTimeout(p.queueTimer);
    if (this.opts.maxQueueWaitMs <= 0) return;
    p.queueTimer = setTimeout(() => this.expireQueued(p), this.opts.maxQueueWaitMs);
    p.queueTimer.unref();
  }

  /** The request waited past maxQueueWaitMs (e.g. its only instance stayed down): refused, never left hanging. */
  private expireQueued(p: Pending): void {
    if (this.queue.get(p.meta.id) !== p) return;
    const waited = Date.now() - (p.meta.timestamps.queued ?? p.meta.timestamps.arrival);
    this.fail(p, new RequestRejectedError('queue_timeout', `no instance could take the request within ${waited} ms of queueing`, p.meta.id, 5));
  }

  /** The caller went away while its request waited: it leaves the queue now (running ones abort via their signal). */
  private cancelQueued(p: Pending): void {
    if (this.queue.get(p.meta.id) !== p) return;
    this.queue.delete(p.meta.id);
    p.meta.status = RequestStatus.CANCELLED;
    p.detachAbort();
    if (p.mode !== 'embedding') this.record(p.meta, { outcome: 'cancelled', e2eMs: Date.now() - p.meta.timestamps.arrival, completionTokens: 0 });
    p.reject(new RequestCancelledError(p.meta.id));
  }

  // ---------------------------------------------------------------- dispatch loop

  /** Coalesces events into one dispatch run on the next turn of the event loop. */
  private kick(): void {
    if (this.dispatchScheduled || this.closed) return;
    this.dispatchScheduled = true;
    setImmediate(() => {
      this.dispatchScheduled = false;
      this.dispatch();
    });
  }

  private usable(i: ExecutionInstance): boolean {
    return i.health === 'healthy' && this.breaker(i.id).canRequest();
  }

  private hasCapacity(i: ExecutionInstance): boolean {
    return i.load.activeRequests < i.maxConcurrency;
  }

  private dispatch(): void {
    if (this.closed || this.queue.size === 0) return;
    if (this.orphanCheckDue) this.failOrphans();
    const instances = this.registry.snapshot((i) => this.usable(i));
    if (!instances.some((i) => this.hasCapacity(i))) {
      this.wakeWhenCircuitProbes();
      return;
    }
    // The policy sees copies: whatever it does to them cannot change the queued requests.
    const queueSnapshot = [...this.queue.values()].map((p) => ({ ...p.meta, timestamps: { ...p.meta.timestamps } }));
    let result;
    try {
      result = this.policy.schedule(queueSnapshot, { now: Date.now(), instances, router: this.router, estimator: this.estimator });
    } catch (err) {
      this.log.error({ err, policy: this.policy.name }, 'policy failed; failing the queued requests rather than leaving them to hang');
      for (const p of [...this.queue.values()]) this.fail(p, new ControlPlaneError(`scheduling policy ${this.policy.name} failed: ${(err as Error).message}`, { status: 500, type: 'service_unavailable', code: 'policy_error', requestId: p.meta.id }));
      return;
    }
    for (const r of result.rejections) {
      const p = this.queue.get(r.requestId);
      if (!p) continue;
      this.fail(p, new RequestRejectedError(r.code, r.reason, r.requestId, r.retryAfterSec));
    }
    for (const d of result.decisions) {
      const p = this.queue.get(d.requestId);
      if (!p) {
        this.log.warn({ requestId: d.requestId }, 'policy decided for a request that is not queued; ignored');
        continue;
      }
      this.apply(p, d);
    }
    this.wakeWhenCircuitProbes();
  }

  /** Queued requests that no registered instance serves any more would wait forever: they fail now. */
  private failOrphans(): void {
    this.orphanCheckDue = false;
    const all = this.registry.all();
    for (const p of [...this.queue.values()]) {
      if (requestClassifier.compatibleInstances(p.meta.type, all, p.meta.model || undefined).length > 0) continue;
      this.fail(p, new RequestRejectedError('no_instance', `no registered instance serves ${p.meta.model || p.meta.type} any more`, p.meta.id, 5));
    }
  }

  /** Applies a decision to its own request, after checking it is still valid now. */
  private apply(p: Pending, d: SchedulingDecision): void {
    let inst = this.registry.get(d.instanceId);
    if (!inst || !this.usable(inst) || !this.hasCapacity(inst) || !this.serves(inst, p.meta)) return; // stays queued
    if (p.excluded.has(inst.id)) {
      // A retry prefers another instance; the excluded one is used only if nothing else could ever serve it.
      const others = this.compatibleUsable(p.meta).filter((i) => !p.excluded.has(i.id));
      if (others.length > 0) {
        const alt = this.router.route(p.meta, others.filter((i) => this.hasCapacity(i)));
        if (!alt) return;
        inst = this.registry.get(alt.id) as ExecutionInstance;
      }
    }
    // F-206: embeddings go to EMBEDDING instances first; an LLM_EMBEDDING one only when none has room.
    if (p.meta.type === RequestType.EMBEDDING && inst.type !== InstanceType.EMBEDDING) {
      const dedicated = this.compatibleUsable(p.meta).filter((i) => i.type === InstanceType.EMBEDDING && this.hasCapacity(i) && !p.excluded.has(i.id));
      const alt = dedicated.length > 0 ? this.router.route(p.meta, dedicated) : undefined;
      if (alt) inst = this.registry.get(alt.id) as ExecutionInstance;
    }
    if (!this.breaker(inst.id).acquire()) return;

    this.queue.delete(p.meta.id);
    clearTimeout(p.queueTimer);
    p.meta.status = RequestStatus.SCHEDULED;
    p.meta.timestamps.scheduled = Date.now();
    p.decision = { ...d, instanceId: inst.id };
    this.registry.begin(inst.id);
    this.running.set(p.meta.id, p);
    void this.run(p, inst, p.decision);
  }

  private serves(inst: ExecutionInstance, meta: RequestMetadata): boolean {
    return requestClassifier.compatibleInstances(meta.type, [inst], meta.model || undefined).length === 1;
  }

  private healthyServes(meta: RequestMetadata): boolean {
    const healthy = this.registry.all().filter((i) => i.health === 'healthy');
    return requestClassifier.compatibleInstances(meta.type, healthy, meta.model || undefined).length > 0;
  }

  private compatibleUsable(meta: RequestMetadata): ExecutionInstance[] {
    return requestClassifier.compatibleInstances(meta.type, this.registry.snapshot((i) => this.usable(i)), meta.model || undefined);
  }

  private circuitTimer?: NodeJS.Timeout;
  /** An open circuit reopens for a probe after its cooldown: that is an instance change, so schedule a run then. */
  private wakeWhenCircuitProbes(): void {
    if (this.circuitTimer || this.queue.size === 0) return;
    const waits = [...this.breakers.values()].map((b) => b.msUntilProbe).filter((ms) => ms > 0);
    if (waits.length === 0) return;
    this.circuitTimer = setTimeout(() => {
      this.circuitTimer = undefined;
      this.kick();
    }, Math.min(...waits) + 5);
    this.circuitTimer.unref();
  }

  // ---------------------------------------------------------------- execution

  private pickPdPair(meta: RequestMetadata, chosen: ExecutionInstance, d: SchedulingDecision, excluded: ReadonlySet<string>): { prefill: ExecutionInstance; decode: ExecutionInstance } | undefined {
    if (!shouldSeparate(this.pd, meta.promptTokens ?? 0, meta.maxTokens ?? DEFAULT_MAX_TOKENS)) return undefined;
    if (chosen.type !== InstanceType.PREFILLING && chosen.type !== InstanceType.DECODING) return undefined;
    // Routers work on snapshots; what is returned is the registry's own instance (snapshots carry no API key).
    const live = (i: ExecutionInstance | undefined) => (i ? this.registry.get(i.id) : undefined);
    // `chosen` already holds this request's slot (and its circuit's probe, if half-open), so it is always a
    // candidate. Any other instance is taken only with a free slot and a closed circuit.
    const others = this.compatibleUsable(meta).filter((i) => i.id !== chosen.id && this.hasCapacity(i) && this.breaker(i.id).currentState === 'closed');
    const candidates = [...this.registry.snapshot((i) => i.id === chosen.id), ...others];
    // A retry goes to instances that have not failed this request, where there are any (for each leg).
    const ofType = (type: InstanceType) => {
      const all = candidates.filter((i) => i.type === type);
      const fresh = all.filter((i) => !excluded.has(i.id));
      return fresh.length > 0 ? fresh : all;
    };
    const prefills = ofType(InstanceType.PREFILLING);
    const prefill = prefills.some((i) => i.id === chosen.id) ? chosen : live(this.router.route(meta, prefills));
    if (!prefill) return undefined;
    const decodes = ofType(InstanceType.DECODING);
    let decode: ExecutionInstance | undefined;
    if (d.decodeInstanceId) decode = live(decodes.find((i) => i.id === d.decodeInstanceId));
    if (!decode && decodes.some((i) => i.id === chosen.id)) decode = chosen;
    if (!decode) {
      const pairing = this.router as RoutingStrategy & { pairFor?: (p: ExecutionInstance, c: readonly ExecutionInstance[]) => ExecutionInstance | undefined };
      const prefillView = candidates.find((i) => i.id === prefill.id) ?? prefill;
      decode = live(pairing.pairFor ? pairing.pairFor(prefillView, decodes) : this.router.route(meta, decodes));
    }
    return decode ? { prefill, decode } : undefined;
  }

  private callSignal(p: Pending): AbortSignal {
    return p.signal ? AbortSignal.any([p.signal, this.shutdown.signal]) : this.shutdown.signal;
  }

  private async run(p: Pending, chosen: ExecutionInstance, d: SchedulingDecision): Promise<void> {
    const meta = p.meta;
    meta.status = RequestStatus.RUNNING;
    meta.timestamps.started = Date.now();
    p.attempts += 1;
    const signal = this.callSignal(p);
    // Slots held right now: released in `finally` (or handed to the stream wrapper).
    const held = new Set<string>([chosen.id]);
    let current = chosen;
    let handedOff = false;
    try {
      if (p.mode === 'embedding') {
        const body: Record<string, unknown> = { ...(p.extra ?? {}), model: meta.model || chosen.models[0], input: meta.embeddingTexts };
        this.embeddings.noteScheduled(meta.id, { instanceId: chosen.id, policy: d.policy, scheduledAt: meta.timestamps.scheduled, decision: d });
        const res = await this.executor.postJson(chosen, '/embeddings', body, { signal, requestId: meta.id });
        const data = Array.isArray(res.body.data) ? (res.body.data as Array<{ index?: number; embedding: number[] | string }>) : [];
        const ordered = [...data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0)).map((e) => e.embedding);
        this.succeed(chosen, meta);
        held.delete(chosen.id);
        p.resolve({ embeddings: ordered, model: typeof res.body.model === 'string' ? res.body.model : body.model as string });
        return;
      }

      const model = meta.model || chosen.models.find((m) => m !== '*') || '';
      const stream = p.mode === 'stream';
      const payload = llmPayload(meta, model, p.extra, stream);
      const path = llmPath(meta);
      const pair = this.pickPdPair(meta, chosen, d, p.excluded);
      let prefillInstanceId: string | undefined;
      let target = chosen;
      let finalPayload = payload;
      if (pair) {
        // The decode slot is held from the start (prefill must not find it taken afterwards); prefill holds its own meanwhile.
        for (const inst of [pair.prefill, pair.decode]) {
          if (held.has(inst.id)) continue;
          this.registry.begin(inst.id);
          held.add(inst.id);
        }
        if (pair.prefill.id !== chosen.id && pair.decode.id !== chosen.id) {
          this.registry.end(chosen.id);
          held.delete(chosen.id);
          this.breaker(chosen.id).release();
        }
        current = pair.prefill;
        const pre = await this.executor.postJson(pair.prefill, path, buildPrefillPayload(payload), { signal, requestId: `${meta.id}-prefill` });
        this.breaker(pair.prefill.id).onSuccess();
        this.registry.end(pair.prefill.id, { latencyMs: Date.now() - (meta.timestamps.started ?? Date.now()) });
        held.delete(pair.prefill.id);
        prefillInstanceId = pair.prefill.id;
        target = pair.decode;
        current = pair.decode;
        finalPayload = buildDecodePayload(payload, extractKvTransferParams(pre.body));
      }
      const decision: SchedulingDecision = pair ? { ...d, instanceId: pair.prefill.id, decodeInstanceId: pair.decode.id } : d;

      if (!stream) {
        const res = await this.executor.postJson(target, path, finalPayload, { signal, requestId: meta.id });
        const usage = res.body.usage as { completion_tokens?: number } | undefined;
        const completionTokens = usage?.completion_tokens ?? 0;
        this.succeed(target, meta, completionTokens);
        held.delete(target.id);
        const now = Date.now();
        const queueMs = (meta.timestamps.scheduled ?? now) - meta.timestamps.arrival;
        this.record(meta, { outcome: 'completed', instanceId: target.id, policy: d.policy, queueMs, e2eMs: now - meta.timestamps.arrival, completionTokens });
        p.resolve({ requestId: meta.id, instanceId: target.id, prefillInstanceId, decision, body: res.body, timings: { queueMs, e2eMs: now - meta.timestamps.arrival } });
        return;
      }

      const started = await this.executor.postStream(target, path, finalPayload, { signal, requestId: meta.id });
      const it = started.chunks[Symbol.asyncIterator]();
      // The first chunk is awaited here so that a failure before any byte reached the caller is still retryable.
      const first = await it.next();
      meta.timestamps.firstToken = Date.now();
      handedOff = true;
      held.delete(target.id);
      p.resolve(this.wrapStream(p, target, decision, prefillInstanceId, first, it, signal));
    } catch (err) {
      for (const id of held) this.registry.end(id);
      held.clear();
      this.onFailure(p, current, err);
    } finally {
      if (!handedOff) {
        for (const id of held) this.registry.end(id);
        // A request put back in the queue for a retry keeps its abort listener; any other outcome is final.
        if (this.queue.get(meta.id) !== p) {
          this.running.delete(meta.id);
          p.detachAbort();
        }
      }
      this.kick();
    }
  }

  private succeed(inst: ExecutionInstance, meta: RequestMetadata, outputTokens?: number): void {
    this.breaker(inst.id).onSuccess();
    const now = Date.now();
    this.registry.end(inst.id, {
      latencyMs: now - (meta.timestamps.started ?? now),
      ttftMs: meta.timestamps.firstToken !== undefined ? meta.timestamps.firstToken - (meta.timestamps.started ?? now) : undefined,
      outputTokens,
    });
    meta.status = RequestStatus.COMPLETED;
    meta.timestamps.finished = now;
  }

  private wrapStream(
    p: Pending,
    inst: ExecutionInstance,
    decision: SchedulingDecision,
    prefillInstanceId: string | undefined,
    first: IteratorResult<Record<string, unknown>>,
    rest: AsyncIterator<Record<string, unknown>>,
    signal: AbortSignal,
  ): InferenceStream {
    const meta = p.meta;
    let finished = false;
    let completionTokens = 0;
    let abortError: RequestCancelledError | undefined;
    const closeUpstream = () => Promise.resolve(rest.return?.(undefined)).catch(() => undefined);
    /** `consumerGone`: the consumer stopped reading — a cancellation, not an engine failure. */
    const finish = (err?: unknown, consumerGone = false) => {
      if (finished) return;
      finished = true;
      signal.removeEventListener('abort', onAbort);
      this.running.delete(meta.id);
      p.detachAbort();
      const now = Date.now();
      const queueMs = (meta.timestamps.scheduled ?? now) - meta.timestamps.arrival;
      const ttftMs = (meta.timestamps.firstToken ?? now) - meta.timestamps.arrival;
      if (err === undefined) {
        this.succeed(inst, meta, completionTokens);
        this.record(meta, { outcome: 'completed', instanceId: inst.id, policy: decision.policy, queueMs, ttftMs, e2eMs: now - meta.timestamps.arrival, completionTokens });
      } else {
        const cancelled = consumerGone || signal.aborted;
        if (cancelled) this.breaker(inst.id).release();
        else this.breaker(inst.id).onFailure();
        this.registry.end(inst.id);
        meta.status = cancelled ? RequestStatus.CANCELLED : RequestStatus.FAILED;
        const errorCode = cancelled ? 'request_cancelled' : (err as { code?: string }).code;
        this.record(meta, { outcome: cancelled ? 'cancelled' : 'failed', errorCode, instanceId: inst.id, policy: decision.policy, queueMs, ttftMs, e2eMs: now - meta.timestamps.arrival, completionTokens });
      }
      this.kick();
    };
    // The caller (or shutdown) may abort while nobody reads — e.g. between submitStream and the first next():
    // nothing would ever notice the cut upstream, so the slot is freed and the upstream closed here.
    const shutdown = this.shutdown.signal;
    function onAbort(): void {
      if (finished) return;
      abortError = new RequestCancelledError(meta.id, shutdown.aborted ? 'control plane is shutting down' : 'request cancelled');
      void closeUpstream();
      finish(abortError);
    }
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    const abandon = async () => {
      if (finished) return;
      await closeUpstream();
      finish(new RequestCancelledError(meta.id, 'stream consumer stopped'), true);
    };
    const count = (chunk: Record<string, unknown>) => {
      const usage = chunk.usage as { completion_tokens?: number } | undefined | null;
      if (usage?.completion_tokens !== undefined) completionTokens = usage.completion_tokens;
      else if (Array.isArray(chunk.choices) && chunk.choices.length > 0) completionTokens += 1;
    };
    async function* gen(): AsyncGenerator<Record<string, unknown>> {
      try {
        if (abortError) throw abortError;
        if (!first.done) {
          count(first.value);
          yield first.value;
          for (;;) {
            const n = await rest.next();
            if (n.done) break;
            count(n.value);
            yield n.value;
          }
        }
        if (abortError) throw abortError;
        finish();
      } catch (err) {
        finish(err);
        throw abortError ?? err;
      } finally {
        // The consumer stopped early (return() after a next()): abort the upstream stream and free the slot.
        await abandon();
      }
    }
    const g = gen();
    let started = false;
    // A generator closed before its first next() skips its own finally: such a stream is abandoned here.
    const iterator: AsyncIterableIterator<Record<string, unknown>> = {
      next: () => {
        started = true;
        return g.next();
      },
      return: async (value?: unknown) => {
        if (!started) await abandon();
        return g.return(value as undefined);
      },
      throw: async (e?: unknown) => {
        if (!started) await abandon();
        return g.throw(e);
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return {
      requestId: meta.id,
      instanceId: inst.id,
      prefillInstanceId,
      decision,
      [Symbol.asyncIterator]: () => iterator,
    };
  }

  private onFailure(p: Pending, inst: ExecutionInstance, err: unknown): void {
    const meta = p.meta;
    if (p.signal?.aborted || this.shutdown.signal.aborted) {
      // No verdict on the engine; a half-open probe gives its slot back (else the circuit waits for it forever).
      this.breaker(inst.id).release();
      meta.status = RequestStatus.CANCELLED;
      if (p.mode !== 'embedding') this.record(meta, { outcome: 'cancelled', instanceId: inst.id, e2eMs: Date.now() - meta.timestamps.arrival, completionTokens: 0 });
      p.reject(new RequestCancelledError(meta.id, this.shutdown.signal.aborted ? 'control plane is shutting down' : 'request cancelled'));
      return;
    }
    if (err instanceof UpstreamError) {
      const engineFault = err.upstreamStatus === undefined || err.upstreamStatus >= 500;
      if (engineFault) this.breaker(inst.id).onFailure();
      else this.breaker(inst.id).onSuccess(); // a 4xx answer proves the engine is alive
      if (err.connectionFailure) this.prober.engineDown(inst.id);
      // Requeued only if some healthy instance serves it: else it would wait for an engine that may never return.
      if (err.retryable && p.attempts < this.opts.maxAttempts && this.healthyServes(meta)) {
        this.log.info({ requestId: meta.id, instance: inst.id, attempt: p.attempts, err: err.message }, 'retrying on another instance');
        p.excluded.add(inst.id);
        meta.status = RequestStatus.QUEUED;
        this.running.delete(meta.id);
        this.queue.set(meta.id, p);
        this.armQueueTimer(p);
        return;
      }
    } else {
      this.breaker(inst.id).onFailure();
    }
    this.fail(p, err);
  }

  private fail(p: Pending, err: unknown): void {
    this.queue.delete(p.meta.id);
    this.running.delete(p.meta.id);
    p.detachAbort();
    p.meta.status = RequestStatus.FAILED;
    if (p.mode !== 'embedding') {
      const rejected = err instanceof RequestRejectedError;
      this.record(p.meta, { outcome: rejected ? 'rejected' : 'failed', errorCode: (err as { code?: string }).code, e2eMs: Date.now() - p.meta.timestamps.arrival, completionTokens: 0 });
    }
    p.reject(err);
  }

  private record(meta: RequestMetadata, r: RecordFields): void {
    const rec = toRequestRecord(meta, r);
    this.metrics.record(rec);
    this.emit('finished', rec);
  }

  /** F-209 metrics as JSON: latency percentiles, throughput, SLO compliance overall and per priority, per-instance load. */
  getMetrics(): MetricsSnapshot {
    this.metrics.observeInstances(this.registry.snapshot());
    return this.metrics.snapshot();
  }

  /** Stops taking requests, rejects the queued ones, aborts those in flight and closes connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.embeddings.close();
    this.timers.close();
    if (this.circuitTimer) clearTimeout(this.circuitTimer);
    for (const p of [...this.queue.values()]) {
      this.queue.delete(p.meta.id);
      p.detachAbort();
      p.reject(new RequestCancelledError(p.meta.id, 'control plane is shutting down'));
    }
    this.shutdown.abort(new RequestCancelledError(undefined, 'control plane is shutting down'));
    await this.executor.close();
  }
}
