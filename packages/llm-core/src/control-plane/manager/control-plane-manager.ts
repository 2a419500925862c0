// ControlPlaneManager (F-203): the instance registry, a bounded queue, and a dispatch loop run on events
// (a request arrives, a request finishes, an instance changes) — never on a polling sleep. Each run hands
// the policy a snapshot; every decision is applied to the queued request WITH THAT ID (Map lookup), and
// only after checking that its instance still exists, is healthy, has a free slot and serves the request.
// Admission control rejects at once what cannot be served (admission.ts). Embeddings go through the batcher
// (F-206, embedding-requests.ts); a dispatched request runs in request-runner.ts, long prompts split into
// prefill/decode legs (F-207, pd-pairing.ts), every upstream call through the executor (F-208). This class
// keeps the orchestration: queue, dispatch, retries and failures, circuit breakers, metrics records, shutdown.
import { EventEmitter, setMaxListeners } from 'node:events';
import pino, { type Logger } from 'pino';
import { createLearnedLatencyEstimator, isLearningEstimator, type AccuracySummary, type LearningLatencyEstimator } from '../estimator';
import { createRouter } from '../routing';
import type { EmbeddingBatchOptions, EmbeddingBatchOutput } from '../batching';
import { CircuitBreaker, EngineExecutor, type CircuitBreakerOptions } from '../executor';
import type { PdOptions } from '../pd';
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
import { EmbeddingRequests } from './embedding-requests';
import { DeferredTimers } from './deferred-timers';
import { admissionVerdict, resolveWaitBudgets, type AdmissionContext, type AdmissionOptions } from './admission';
import { AdmissionAudit, type AdmissionAuditSnapshot } from './admission-audit';
import { countAhead } from './backlog';
import { QueueIndex } from './queue-index';
import { IdList } from '../id-list';
import { RefusalPacer } from './refusal-pacer';
import { WaitCalibration } from './wait-calibration';
import { hasDiscipline, judgesDeadlines, type DisciplinedPolicy } from '../policies';
import { QueueWatch } from './queue-watch';
import { EngineHealthProber } from './engine-health-prober';
import { startEngineMetricsPolling } from './engine-metrics-poller';
import { toRequestRecord, type RecordFields } from './request-record';
import { hasCapacity, servesRequest, servingInstances } from './instance-checks';
import { rejectToSink, resolveToSink, type Mode, type PendingRequest as Pending } from './pending-request';
import { RequestRunner } from './request-runner';
import { LatencyOutliers, type LatencyOutlierOptions } from './latency-outliers';
import type { StreamFailover } from './stream-failover';
import { LOCAL_SLOTS, type SharedSlots } from './instance-lease';
import { InstanceRegistry, type InstanceSpec } from './registry';
import { ServingCache } from './serving-lists';
import { resolvePolicy } from './resolve-policy';
import { MetricsCollector, type MetricsCollectorOptions, type MetricsSnapshot, type RequestRecord } from '../metrics';
import type { PolicyOptions } from '../policies';
import { freeSlots } from '../routing/load';
import { toMetadata, type InferenceRequest, type InferenceResult, type InferenceStream, type ResultSink } from './request';

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
  /**
   * Per upstream call, ms (default 60 000): the whole of a non-streaming call; for a stream, the time until its
   * first chunk. A streamed generation is then bounded only by `streamIdleTimeoutMs`, not by its length.
   */
  requestTimeoutMs?: number;
  /** Longest silence between two chunks of a started stream, ms (default 30 000; 0 = no bound). */
  streamIdleTimeoutMs?: number;
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
  /**
   * Poll each engine's /metrics every N ms (default 1000; 0 = off): its running and waiting sequences, KV-cache
   * use and capacity reach policies, routers and the dashboard, and its latency histograms calibrate the estimator.
   */
  engineMetricsPollMs?: number;
  /** Admission control: queue-wait budgets per class, shadow mode, the deadline judge's confidence. */
  admission?: AdmissionOptions;
  /** Windows of the metrics (throughput and recent latencies: default the last 60 s in 6 slices). */
  metrics?: Pick<MetricsCollectorOptions, 'windowMs' | 'windowSlices'>;
  instances?: InstanceSpec[];
  /** Instance slots counted across control-plane replicas (a shared state store); default: this process alone. */
  sharedSlots?: SharedSlots;
  logger?: Logger;
  /** Drain of instances much slower than their peers (latency-outliers.ts); false turns it off. */
  latencyOutliers?: LatencyOutlierOptions | false;
}

export interface ManagerStatus {
  policy: string;
  router: string;
  queueLength: number;
  running: number;
  instances: Array<ExecutionInstance & { circuit: string; drained?: string }>;
}

const ONCE = Object.freeze({ once: true });

const NO_INSTANCES: readonly ExecutionInstance[] = Object.freeze([]);

/** The instances a request has failed on: none, until a retry gives it a set of its own. */
const NONE_EXCLUDED: ReadonlySet<string> = new Set();

/** getMetrics(): the collector's snapshot with the estimator's accuracy and the admission audit. */
export type ControlPlaneMetricsSnapshot = MetricsSnapshot & {
  /** Per instance: median absolute percentage error of predicted vs actual e2e and TTFT (learning estimator only). */
  estimator: Record<string, AccuracySummary>;
  admission: AdmissionAuditSnapshot;
};

/** How far ahead in the window dispatch looks for a decision's request before it looks the id up. */
const NEAR = 8;

/** Dispatch hands the policy at most this many queued requests of each kind, and at least this many. */
const WINDOW_MIN = 16;
const WINDOW_MAX = 512;

/** Emits `finished` with the metrics record of every request that reached an end (F-209), `failover` when a stream moves, `circuit` when a breaker opens or closes. */
export class ControlPlaneManager extends EventEmitter<{ finished: [RequestRecord]; failover: [StreamFailover]; circuit: [instanceId: string, state: 'open' | 'closed', openedAt: number] }> {
  readonly registry = new InstanceRegistry();
  /** Which instances serve each kind of request, kept until the registry changes. */
  private readonly serving = new ServingCache(this.registry);
  readonly metrics: MetricsCollector;
  readonly policy: SchedulingPolicy;
  readonly router: RoutingStrategy;
  private readonly estimator: LatencyEstimator;
  /** The estimator, when it learns from what requests took (asked once: dispatch and every outcome report to it). */
  private readonly learning?: LearningLatencyEstimator;
  private readonly executor: EngineExecutor;
  private readonly embeddings: EmbeddingRequests;
  private readonly breakers = new Map<string, CircuitBreaker>();
  // By id as a Map would be, but IdLists: every request passes through both (id-list.ts says why that matters).
  private readonly queue = new IdList<Pending>();
  /** The queue in the policy's order, when the policy states it (policies/discipline.ts). */
  private readonly index?: QueueIndex<Pending>;
  private readonly audit: AdmissionAudit;
  private readonly waits = new WaitCalibration();
  private admissionCtx?: AdmissionContext;
  private readonly pacer = new RefusalPacer();
  private readonly waitBudgets: number[];
  private readonly confidence?: number;
  private readonly running = new IdList<Pending>();
  private readonly log: Logger;
  private readonly opts: {
    maxQueueSize: number;
    requestTimeoutMs: number;
    maxAttempts: number;
    healthProbeIntervalMs: number;
    breaker: Omit<CircuitBreakerOptions, 'now'>;
  };
  private readonly timers = new DeferredTimers();
  private readonly queueWatch: QueueWatch;
  private readonly prober: EngineHealthProber;
  private readonly runner: RequestRunner;
  private readonly outliers?: LatencyOutliers;
  /** Whether the outliers keep the wall clock (Date.now), so a request's end hands them the time it has read. */
  private readonly outliersOnWallClock: boolean;
  private readonly outlierGroups = new Map<string, { type: string; models: readonly string[]; group: string }>();
  private readonly shutdown = new AbortController();
  private readonly pd: PdOptions;
  private dispatchScheduled = false;
  /** The window of a dispatch run (QueueIndex.windowInto), empty between runs. */
  private readonly window: Pending[] = [];
  private windowBusy = false;
  /** Requests queued since the last dispatch run that have a signal (settleFresh). */
  private fresh: Pending[] = [];
  /** Made once: dispatch asks them of every instance, and each event schedules a run. */
  private readonly usableNow = (i: ExecutionInstance) => this.usable(i);
  private readonly scheduledDispatch = () => {
    this.dispatchScheduled = false;
    this.dispatch();
  };
  /** The instances countAhead() asks about, for competesForServing (made once rather than a closure per question). */
  private aheadServing: readonly ExecutionInstance[] = NO_INSTANCES;
  private readonly competesForServing = (sample: RequestMetadata): boolean => {
    for (const i of this.aheadServing) if (servesRequest(i, sample)) return true;
    return false;
  };
  private orphanCheckDue = false;
  private closed = false;
  /**
   * The policy (with its classifier), the router and the estimator are sage's own, which never change a request or
   * an instance they are shown: a dispatch run hands them the queued requests' metadata and the live instances
   * themselves. Any one handed in by the caller sees copies, so that whatever it does to them changes nothing here
   * (and it sees no API key).
   */
  private readonly readOnlyScheduling: boolean;

  constructor(options: ControlPlaneManagerOptions = {}) {
    super();
    // On the wall clock (no clock of its own): a request's end hands it the time already read (record()).
    this.metrics = new MetricsCollector({ windowMs: options.metrics?.windowMs, windowSlices: options.metrics?.windowSlices });
    const shadow = options.admission?.shadow ?? false;
    // Policies, routers and the estimator made here only read the requests they are shown; one handed in may not.
    this.readOnlyScheduling = typeof options.policy !== 'object' && typeof options.router !== 'object' && options.estimator === undefined && options.policyOptions?.classifier === undefined;
    // Resolve names first: an unknown policy or router is an error, not a silent default. In shadow mode a
    // policy serves hopeless requests best effort: admission and the watch only note what they would refuse.
    this.policy = resolvePolicy(options.policy ?? 'adaptive', shadow ? { ...options.policyOptions, onInfeasible: 'demote' } : options.policyOptions);
    this.router = typeof options.router === 'object' ? options.router : createRouter(options.router ?? 'load_balanced');
    this.estimator = options.estimator ?? createLearnedLatencyEstimator();
    if (isLearningEstimator(this.estimator)) this.learning = this.estimator;
    this.waitBudgets = resolveWaitBudgets(options.admission?.waitBudgetMs);
    this.confidence = options.admission?.confidence;
    if (this.confidence !== undefined && !(this.confidence > 0.5 && this.confidence < 1)) throw new RangeError(`admission.confidence must be in (0.5, 1), got ${this.confidence}`);
    this.audit = new AdmissionAudit(shadow, this.waitBudgets);
    if (hasDiscipline(this.policy)) this.index = new QueueIndex<Pending>(bestEffortHorizon(this.policy));
    const envLevel = process.env.SAGE_LOG_LEVEL?.trim().toLowerCase();
    this.log = options.logger ?? pino({ name: 'control-plane', level: envLevel && envLevel in pino.levels.values ? envLevel : 'silent' });
    this.opts = {
      maxQueueSize: options.maxQueueSize ?? 1000,
      requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
      maxAttempts: Math.max(1, options.maxAttempts ?? 3),
      healthProbeIntervalMs: options.healthProbeIntervalMs ?? 1000,
      breaker: options.circuitBreaker ?? {},
    };
    this.queueWatch = new QueueWatch(
      {
        isQueued: (p) => p.queued,
        queueSize: () => this.queue.size,
        healthyServing: (meta) => this.serving.of(meta).healthy,
        countAhead: (meta, serving, now) => this.countAhead(meta, serving, now),
        refuse: (p, err) => {
          if (err.code === 'deadline_infeasible') this.audit.refusal(p.meta, err.code);
          this.fail(p, err);
        },
        note: (p, err) => this.audit.refusal(p.meta, err.code),
      },
      {
        timers: this.timers,
        estimator: this.estimator,
        maxQueueWaitMs: options.maxQueueWaitMs ?? 60_000,
        // With onInfeasible 'demote' the policy serves such requests as best effort: they are not refused here;
        // a deadline-blind policy (fifo) never refuses by deadline, so in shadow mode there is nothing to note.
        rejectLate: judgesDeadlines(this.policy) && (shadow || options.policyOptions?.onInfeasible !== 'demote'),
        shadow,
        confidence: this.confidence,
      },
    );
    // One object, read by the runner at every request: setPdSeparation() changes it in place.
    const pd: PdOptions = (this.pd = {
      enabled: options.enablePdSeparation ?? false,
      minInputTokens: options.pdMinInputTokens ?? 256,
      minInputOutputRatio: options.pdMinInputOutputRatio ?? 1,
    });
    this.executor = new EngineExecutor({ requestTimeoutMs: this.opts.requestTimeoutMs, streamIdleTimeoutMs: options.streamIdleTimeoutMs });
    this.prober = new EngineHealthProber({ registry: this.registry, executor: this.executor, timers: this.timers, intervalMs: this.opts.healthProbeIntervalMs, onRecovered: (id) => this.markHealthy(id) });
    this.embeddings = new EmbeddingRequests({
      batching: options.embedding ?? {},
      enqueue: (meta, request) => this.calibrateWhenDone(meta, this.enqueue(meta, 'embedding', request, true) as Promise<EmbeddingBatchOutput>),
      record: (meta, fields) => this.record(meta, fields),
      policyName: () => this.policy.name,
    });
    if (options.latencyOutliers !== false) this.outliers = new LatencyOutliers(options.latencyOutliers);
    this.outliersOnWallClock = options.latencyOutliers === undefined || options.latencyOutliers === false || options.latencyOutliers.now === undefined;
    this.runner = new RequestRunner({
      registry: this.registry,
      executor: this.executor,
      pairing: { pd, registry: this.registry, router: this.router, usable: (i) => this.usable(i), circuitState: (id) => this.breaker(id).currentState },
      breaker: (id) => this.breaker(id),
      slots: options.sharedSlots ?? LOCAL_SLOTS,
      embeddings: this.embeddings,
      shutdown: this.shutdown.signal,
      record: (meta, fields) => this.record(meta, fields),
      onFailure: (p, inst, err) => this.onFailure(p, inst, err),
      leaveRunning: (p) => this.leaveRunning(p),
      // A request put back in the queue for a retry keeps its abort listener; any other outcome is final.
      afterAttempt: (p) => {
        if (!p.queued) this.leaveRunning(p);
      },
      requeue: (p) => this.requeue(p),
      kick: () => this.kick(),
      engineDown: (id) => this.prober.engineDown(id),
      maxStreamLegs: this.opts.maxAttempts,
      onFailover: (e) => {
        this.log.warn({ requestId: e.requestId, from: e.from, to: e.to, reason: e.reason, tokensSoFar: e.tokensSoFar }, 'stream continued on another instance');
        this.emit('failover', e);
      },
      onFailoverRefused: (requestId, from, why) => this.log.warn({ requestId, instance: from, why }, 'stream not continued elsewhere'),
      observeLatency: (inst, msPerToken, now) => this.observeLatency(inst, msPerToken, now),
    });
    // Streams reach shutdown through the runner's one listener; no warning whoever else listens.
    setMaxListeners(0, this.shutdown.signal);

    this.registry.on('change', (reason, id) => {
      if (reason === 'registered' || reason === 'unregistered') this.router.onInstancesChanged?.(this.registry.snapshot());
      if (reason === 'unregistered') {
        this.breakers.delete(id);
        this.outlierGroups.delete(id);
        this.outliers?.forget(id);
        this.orphanCheckDue = true;
      }
      this.kick();
    });
    this.registry.on('capacity', () => this.kick());
    for (const spec of options.instances ?? []) this.registerInstance(spec);
    const pollMs = options.engineMetricsPollMs ?? 1000;
    if (pollMs > 0) startEngineMetricsPolling(this.registry, this.executor, this.timers, pollMs, isLearningEstimator(this.estimator) ? this.estimator : undefined);
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

  /** Out of rotation now and probed on /health until it answers (another replica found it down). */
  probeUntilHealthy(id: string): void {
    if (this.registry.get(id)) this.prober.engineDown(id);
  }

  /** A circuit change made by another replica: applied without being reported again. */
  applyCircuit(id: string, state: 'open' | 'closed', openedAt: number): void {
    if (!this.registry.get(id)) return;
    this.breaker(id).adopt(state, openedAt);
    if (state === 'closed') this.kick();
    else this.wakeWhenCircuitProbes();
  }

  /** Instances with live load and circuit state; no back-end keys. */
  getInstances(): Array<ExecutionInstance & { circuit: string; drained?: string }> {
    return this.registry.snapshot().map((i) => {
      const drained = this.outliers?.drainedReason(i.id);
      return { ...i, circuit: this.breaker(i.id).currentState, ...(drained ? { drained } : {}) };
    });
  }

  /** A request finished on `inst`: an instance that became an outlier gets no new work until its drain ends. */
  /** Instances of one kind serving the same models are each other's peers; the key is made once per model list. */
  private outlierGroup(inst: ExecutionInstance): string {
    const known = this.outlierGroups.get(inst.id);
    if (known && known.type === inst.type && known.models === inst.models) return known.group;
    const group = `${inst.type}:${[...inst.models].sort().join(',')}`;
    this.outlierGroups.set(inst.id, { type: inst.type, models: inst.models, group });
    return group;
  }

  private observeLatency(inst: ExecutionInstance, msPerToken: number, now: number): void {
    const group = this.outlierGroup(inst);
    const reason = this.outliers?.observe(inst.id, group, msPerToken, this.outliersOnWallClock ? now : undefined);
    if (!reason || !this.outliers) return;
    this.log.warn({ instance: inst.id, reason, drainMs: this.outliers.drainMs }, 'instance drained');
    // Its return is an instance change: queued requests may go there then.
    this.timers.later(() => this.kick(), this.outliers.drainMs + 5);
  }

  /** Prefill/decode separation as it is now. */
  get pdSeparation(): Readonly<PdOptions> {
    return { ...this.pd };
  }

  /** Turns prefill/decode separation on or off, or changes its thresholds, for requests dispatched from now on. */
  setPdSeparation(options: Partial<PdOptions>): void {
    Object.assign(this.pd, Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)));
  }

  status(): ManagerStatus {
    return { policy: this.policy.name, router: this.router.name, queueLength: this.queue.size, running: this.running.size, instances: this.getInstances() };
  }

  get queueLength(): number {
    return this.queue.size;
  }

  /** Ids of the requests waiting in the queue, in arrival order (for status and tests). */
  queuedRequestIds(): string[] {
    return this.queue.values().sort((a, b) => a.meta.timestamps.arrival - b.meta.timestamps.arrival).map((p) => p.meta.id);
  }

  /** The model each queued request asked for, in no order (read by /metrics at scrape time). */
  queuedModels(): string[] {
    return this.queue.values().map((p) => p.meta.model);
  }

  private breaker(id: string): CircuitBreaker {
    let b = this.breakers.get(id);
    if (!b) {
      b = new CircuitBreaker({ ...this.opts.breaker, onChange: (state, openedAt) => this.emit('circuit', id, state, openedAt) });
      // Outcomes that arrive after an instance was unregistered (or ids never registered) must not refill the map.
      if (this.registry.get(id)) this.breakers.set(id, b);
    }
    return b;
  }

  // ---------------------------------------------------------------- public request API

  /** Runs a request to completion and returns the engine's OpenAI JSON (embeddings: the caller's own list). */
  submit(request: InferenceRequest): Promise<InferenceResult> {
    // Not an async function (one promise fewer per request): a refusal at admission still rejects the promise.
    let meta: RequestMetadata;
    try {
      meta = this.admit(request);
    } catch (err) {
      return Promise.reject(err);
    }
    if (meta.type === RequestType.EMBEDDING) return this.embeddings.submit(meta, request);
    return this.enqueue(meta, 'json', request) as Promise<InferenceResult>;
  }

  /**
   * submit() with its outcome handed to `sink` instead of a promise (no promise, settling functions or closure per
   * request): the answer as it is in hand, a failure a microtask later. A refusal at admission throws at once.
   */
  submitTo(request: InferenceRequest, sink: ResultSink): void {
    const meta = this.admit(request);
    if (meta.type === RequestType.EMBEDDING) {
      this.embeddings.submit(meta, request).then((r) => sink.answered(r), (err: unknown) => sink.failed(err));
      return;
    }
    if (this.queue.size >= this.opts.maxQueueSize) throw this.queueFull(meta);
    this.queueNew(meta, 'json', request, resolveToSink, rejectToSink, sink);
  }

  /** Starts a streaming LLM request; resolves once the engine's first chunk is in hand (see InferenceStream). */
  submitStream(request: InferenceRequest): Promise<InferenceStream> {
    // Not an async function (as submit): the queue's promise is handed back as it is, one promise and its turns
    // fewer on the way to the first token; a refusal at admission still rejects.
    let meta: RequestMetadata;
    try {
      meta = this.admit(request);
    } catch (err) {
      return Promise.reject(err);
    }
    if (meta.type === RequestType.EMBEDDING) return Promise.reject(new RequestRejectedError('invalid_request', 'embedding requests cannot stream', meta.id));
    return this.enqueue(meta, 'stream', request) as Promise<InferenceStream>;
  }

  /** Admission control: everything that can be refused at once is refused here, with a reason. */
  private admit(request: InferenceRequest): RequestMetadata {
    if (this.closed) throw new RequestRejectedError('shutting_down', 'control plane is shutting down', request.id, 1);
    const meta = toMetadata(request, Date.now());
    if (request.signal?.aborted) throw new RequestCancelledError(meta.id);

    const ctx = this.admissionContext();
    // The clock was read for its arrival in this same step: admission reads that rather than the clock again.
    ctx.now = meta.timestamps.arrival;
    const verdict = admissionVerdict(meta, ctx, this.audit.shadow);
    const { refusal, wouldRefuse, predictive, predictedWaitMs } = verdict;
    if (!refusal && predictedWaitMs !== undefined) this.waits.admitted(meta.id, predictedWaitMs);
    if (wouldRefuse) this.audit.refusal(meta, wouldRefuse.code);
    if (refusal instanceof RequestRejectedError) {
      if (predictive) this.audit.refusal(meta, refusal.code);
      throw this.rejected(meta, refusal);
    }
    if (refusal) throw refusal;
    return meta;
  }

  /**
   * What admission reads, as of now: one object and its functions made once, their fields refreshed for each
   * request (admissionVerdict runs synchronously and keeps nothing), so admitting allocates no closures.
   */
  private admissionContext(): AdmissionContext {
    let ctx = this.admissionCtx;
    if (!ctx) {
      ctx = this.admissionCtx = {
        serving: (meta) => this.serving.of(meta),
        queueSize: () => this.queue.size,
        maxQueueSize: 0,
        estimator: this.estimator,
        dispatchNow: () => this.dispatch(),
        countAhead: (m, serving, now) => this.countAhead(m, serving, now),
        waitBudgets: this.waitBudgets,
        waitFactor: () => this.waits.factor(),
        waitCalibrated: () => this.waits.calibrated(),
        pacer: this.pacer,
        confidence: this.confidence,
      };
    }
    // Only what can change between requests is refreshed; the rest is fixed at construction.
    ctx.maxQueueSize = this.opts.maxQueueSize;
    ctx.judgesDeadlines = judgesDeadlines(this.policy);
    return ctx;
  }

  /** A refusal at admission still counts: in the rejections by code and, with a deadline, as an SLO miss. */
  private rejected(meta: RequestMetadata, err: RequestRejectedError): RequestRejectedError {
    this.record(meta, { outcome: 'rejected', errorCode: err.code, e2eMs: 0, completionTokens: 0 });
    return err;
  }

  private enqueue(meta: RequestMetadata, mode: Mode, request: Pick<InferenceRequest, 'extraBody' | 'signal'>, internal = false): Promise<InferenceResult | InferenceStream | EmbeddingBatchOutput> {
    if (!internal && this.queue.size >= this.opts.maxQueueSize) return Promise.reject(this.queueFull(meta));
    // The promise's settlers are taken by a shared executor: no closure is made per request for it.
    const promise = new Promise<InferenceResult | InferenceStream | EmbeddingBatchOutput>(takeSettlers);
    const resolve = settlers.resolve!;
    const reject = settlers.reject!;
    settlers.resolve = settlers.reject = undefined;
    this.queueNew(meta, mode, request, resolve, reject, undefined);
    return promise;
  }

  private queueFull(meta: RequestMetadata): RequestRejectedError {
    return new RequestRejectedError('queue_full', `queue is full (${this.queue.size} requests waiting)`, meta.id, 1);
  }

  /** Queues a new request, settled by `resolve` and `reject` (with `sink`: resolveToSink and rejectToSink). */
  private queueNew(meta: RequestMetadata, mode: Mode, request: Pick<InferenceRequest, 'extraBody' | 'signal'>, resolve: Pending['resolve'], reject: Pending['reject'], sink: ResultSink | undefined): void {
    // Every field from the start (a later addition grows the object's property store).
    const p: Pending = { meta, mode, extra: request.extraBody, signal: request.signal, excluded: NONE_EXCLUDED, attempts: 0, resolve, reject, sink, queued: false, onAbort: undefined, decision: undefined, deadlineTimer: undefined, waitDue: undefined, waitPrev: undefined, waitNext: undefined };
    try {
      meta.status = RequestStatus.QUEUED;
      const now = Date.now();
      meta.timestamps.queued = now;
      this.toQueue(p);
      this.queueWatch.arm(p, now);
      // Its caller's abort is listened to only if it is still queued after the next dispatch run (most requests
      // are dispatched by that run): one aborted before it is taken out of the queue there (settleFresh).
      if (p.signal) this.fresh.push(p);
      this.kick();
    } catch (err) {
      p.reject(err);
    }
  }

  /** Queued requests the policy would serve before `meta` that compete with it for `serving` (backlog.ts). */
  private countAhead(meta: RequestMetadata, serving: readonly ExecutionInstance[], now: number): number {
    // Nothing queued, nothing ahead (what either path below would count, without asking the policy).
    if (this.queue.size === 0) return 0;
    const discipline = this.index && (this.policy as DisciplinedPolicy).discipline(this.index.shape(), now);
    if (this.index && discipline) {
      this.aheadServing = serving;
      return this.index.ahead(meta, discipline, this.competesForServing, now);
    }
    return countAhead(this.policy, this.queue.values().map((q) => q.meta), meta, serving, now);
  }

  private toQueue(p: Pending): void {
    // One request per id: one queued under the same id before loses its place (as a Map's set would replace it).
    const before = this.queue.swap(p.meta.id, p);
    if (before) before.queued = false;
    p.queued = true;
    this.index?.add(p);
  }

  /**
   * Takes `p` out of the queue (if it is the one queued under its id). `dispatchedAt`: when it leaves for an
   * instance (its wait is then scored); undefined when it leaves otherwise.
   */
  private fromQueue(p: Pending, dispatchedAt?: number): boolean {
    // `queued` says whether the queue holds `p` under its id (toQueue and this keep it so): no lookup when it does not.
    if (!p.queued) return false;
    p.queued = false;
    this.queue.delete(p.meta.id);
    this.index?.remove(p);
    if (this.waits.tracking) this.waits.left(p.meta.id, dispatchedAt !== undefined ? dispatchedAt - (p.meta.timestamps.queued ?? p.meta.timestamps.arrival) : undefined);
    return true;
  }

  /** Listens for the caller going away while the request waits (once; nothing if it already listens). */
  private watchAbort(p: Pending): void {
    if (!p.signal || p.onAbort) return;
    p.onAbort = () => this.cancelQueued(p);
    p.signal.addEventListener('abort', p.onAbort, ONCE);
  }

  /**
   * Requests queued since the last dispatch run, whose abort nobody listens to yet. Before a run, those aborted
   * meanwhile leave the queue as cancelled (what their listener would have done); after it, those still queued get
   * their listener. Returns those to settle after the run.
   */
  private settleFresh(): Pending[] | undefined {
    if (this.fresh.length === 0) return undefined;
    const fresh = this.fresh;
    this.fresh = [];
    for (const p of fresh) if (p.signal?.aborted) this.cancelQueued(p);
    return fresh;
  }

  private listenFresh(fresh: Pending[]): void {
    for (const p of fresh) {
      if (!p.queued) continue;
      if (p.signal?.aborted) this.cancelQueued(p);
      else this.watchAbort(p);
    }
  }

  /** The request leaves the manager's watch: its queue timers and its abort listener go. */
  private detach(p: Pending): void {
    this.queueWatch.disarm(p);
    if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort);
    p.onAbort = undefined;
  }

  /** The caller went away while its request waited: it leaves the queue now (running ones abort via their signal). */
  private cancelQueued(p: Pending): void {
    if (!this.fromQueue(p)) return;
    p.meta.status = RequestStatus.CANCELLED;
    this.detach(p);
    if (p.mode !== 'embedding') this.record(p.meta, { outcome: 'cancelled', e2eMs: Date.now() - p.meta.timestamps.arrival, completionTokens: 0 });
    p.reject(new RequestCancelledError(p.meta.id));
  }

  // ---------------------------------------------------------------- dispatch loop

  /**
   * Coalesces events into one dispatch run on the next turn of the event loop. With nothing queued there is nothing
   * to run (a request that ends or an instance that changes then costs no turn): the next request queued kicks again.
   */
  private kick(): void {
    if (this.dispatchScheduled || this.closed || this.queue.size === 0) return;
    this.dispatchScheduled = true;
    setImmediate(this.scheduledDispatch);
  }

  private usable(i: ExecutionInstance): boolean {
    if (i.health !== 'healthy' || !this.breaker(i.id).canRequest()) return false;
    // A drained instance (much slower than its peers) is left out only while a peer can take its work.
    if (this.outliers?.drainedReason(i.id) === undefined) return true;
    return !this.registry.all().some((o) => o.id !== i.id && o.health === 'healthy' && this.breaker(o.id).canRequest() && this.outliers?.drainedReason(o.id) === undefined && o.models.some((m) => i.models.includes(m)));
  }

  private dispatch(): void {
    const fresh = this.settleFresh();
    try {
      this.dispatchRun();
    } finally {
      if (fresh) this.listenFresh(fresh);
    }
  }

  private dispatchRun(): void {
    if (this.closed || this.queue.size === 0) return;
    if (this.orphanCheckDue) this.failOrphans();
    // Sage's own policy and router read the live instances within this call; one handed in gets copies.
    const instances = this.readOnlyScheduling ? this.registry.live(this.usableNow) : this.registry.snapshot(this.usableNow);
    let free = 0;
    let room = false;
    for (const i of instances) {
      free += freeSlots(i);
      room ||= hasCapacity(i);
    }
    if (!room) {
      this.wakeWhenCircuitProbes();
      return;
    }
    // The policy sees the requests (copies, unless it is known to only read them). With a stated order
    // it sees only the head of each kind's queue — what the free slots can take, with room to skip — so a
    // dispatch costs the same whatever the queue length.
    const now = Date.now();
    const discipline = this.index && (this.policy as DisciplinedPolicy).discipline(this.index.shape(), now);
    // A run started inside this one (a listener that submits into a full queue) gets an array of its own.
    const own = !this.windowBusy;
    this.windowBusy = true;
    const head = this.index && discipline ? this.index.windowInto(discipline, now, Math.min(WINDOW_MAX, Math.max(WINDOW_MIN, 4 * free)), own ? this.window : []) : this.queue.values();
    try {
      const queueSnapshot = this.readOnlyScheduling ? metaOf(head) : head.map((p) => ({ ...p.meta, timestamps: { ...p.meta.timestamps } }));
      let result;
      try {
        // The queue holds one request per id (it is keyed by id), and says so.
        result = this.policy.schedule(queueSnapshot, { now, instances, router: this.router, estimator: this.estimator, uniqueIds: true });
      } catch (err) {
        this.log.error({ err, policy: this.policy.name }, 'policy failed; failing the queued requests rather than leaving them to hang');
        for (const p of this.queue.values()) this.fail(p, new ControlPlaneError(`scheduling policy ${this.policy.name} failed: ${(err as Error).message}`, { status: 500, type: 'service_unavailable', code: 'policy_error', requestId: p.meta.id }));
        return;
      }
      for (const r of result.rejections) {
        const p = this.queue.get(r.requestId);
        if (!p) continue;
        if (r.code === 'deadline_infeasible') this.audit.refusal(p.meta, r.code);
        this.fail(p, new RequestRejectedError(r.code, r.reason, r.requestId, r.retryAfterSec));
      }
      let at = 0;
      for (const d of result.decisions) {
        // Decisions nearly always follow the order the requests were handed over in: the request is looked for
        // at the next few places of the window first (no lookup by id), and by id only when not found there.
        let p: Pending | undefined;
        for (let j = at, end = Math.min(head.length, at + NEAR); j < end; j++) {
          const c = head[j]!;
          if (c.meta.id !== d.requestId) continue;
          if (c.queued) {
            p = c;
            at = j + 1;
          }
          break;
        }
        p ??= this.queue.get(d.requestId);
        if (!p) {
          this.log.warn({ requestId: d.requestId }, 'policy decided for a request that is not queued; ignored');
          continue;
        }
        this.apply(p, d);
      }
    } finally {
      // The window's array is kept for the next run: it holds no request in between.
      if (own) {
        this.window.length = 0;
        this.windowBusy = false;
      }
    }
    this.wakeWhenCircuitProbes();
  }

  /** Queued requests that no registered instance serves any more would wait forever: they fail now. */
  private failOrphans(): void {
    this.orphanCheckDue = false;
    const all = this.registry.all();
    for (const p of this.queue.values()) {
      if (servingInstances(p.meta, all).length > 0) continue;
      this.fail(p, new RequestRejectedError('no_instance', `no registered instance serves ${p.meta.model || p.meta.type} any more`, p.meta.id, 5));
    }
  }

  /** Applies a decision to its own request, after checking it is still valid now. */
  private apply(p: Pending, d: SchedulingDecision): void {
    let inst = this.registry.get(d.instanceId);
    if (!inst || !this.usable(inst) || !hasCapacity(inst) || !this.serves(inst, p.meta)) return; // stays queued
    if (p.excluded.size > 0 && p.excluded.has(inst.id)) {
      // A retry prefers another instance; the excluded one is used only if nothing else could ever serve it.
      const others = this.compatibleUsable(p.meta).filter((i) => !p.excluded.has(i.id));
      if (others.length > 0) {
        const alt = this.router.route(p.meta, others.filter((i) => hasCapacity(i)));
        if (!alt) return;
        inst = this.registry.get(alt.id) as ExecutionInstance;
      }
    }
    // F-206: embeddings go to EMBEDDING instances first; an LLM_EMBEDDING one only when none has room.
    if (p.meta.type === RequestType.EMBEDDING && inst.type !== InstanceType.EMBEDDING) {
      const dedicated = this.compatibleUsable(p.meta).filter((i) => i.type === InstanceType.EMBEDDING && hasCapacity(i) && !p.excluded.has(i.id));
      const alt = dedicated.length > 0 ? this.router.route(p.meta, dedicated) : undefined;
      if (alt) inst = this.registry.get(alt.id) as ExecutionInstance;
    }
    const lease = this.runner.take(inst);
    if (!lease) return;

    // One clock reading for the moment it leaves the queue: its wait, its start for the estimator, its timestamp.
    const now = Date.now();
    this.fromQueue(p, now);
    this.queueWatch.disarm(p);
    this.learning?.started(p.meta, inst, now);
    p.meta.status = RequestStatus.SCHEDULED;
    p.meta.timestamps.scheduled = now;
    // The policy's decision is this run's own: copied only when the instance is not the one it chose.
    p.decision = inst.id === d.instanceId ? d : { ...d, instanceId: inst.id };
    this.running.set(p.meta.id, p);
    void this.runner.run(p, lease, inst, p.decision);
  }

  private serves(inst: ExecutionInstance, meta: RequestMetadata): boolean {
    return servesRequest(inst, meta);
  }

  private healthyServes(meta: RequestMetadata): boolean {
    return this.serving.of(meta).healthy.length > 0;
  }

  private compatibleUsable(meta: RequestMetadata): ExecutionInstance[] {
    return servingInstances(meta, this.registry.snapshot(this.usableNow));
  }

  private circuitTimer?: NodeJS.Timeout;
  /** An open circuit reopens for a probe after its cooldown: that is an instance change, so schedule a run then. */
  private wakeWhenCircuitProbes(): void {
    if (this.circuitTimer || this.queue.size === 0) return;
    let soonest = Infinity;
    for (const b of this.breakers.values()) {
      const ms = b.msUntilProbe;
      if (ms > 0 && ms < soonest) soonest = ms;
    }
    if (soonest === Infinity) return;
    this.circuitTimer = setTimeout(() => {
      this.circuitTimer = undefined;
      this.kick();
    }, soonest + 5);
    this.circuitTimer.unref();
  }

  // ---------------------------------------------------------------- outcomes (the runner reports; retries and failures are decided here)

  /** The request is over: it leaves the running set and its abort listener goes. */
  private leaveRunning(p: Pending): void {
    this.running.delete(p.meta.id);
    this.detach(p);
  }

  private onFailure(p: Pending, inst: ExecutionInstance, err: unknown): void {
    const meta = p.meta;
    // The engine's verdict went to its circuit breaker with the lease (request-runner.ts).
    if (p.signal?.aborted || this.shutdown.signal.aborted) {
      meta.status = RequestStatus.CANCELLED;
      if (p.mode !== 'embedding') this.record(meta, { outcome: 'cancelled', instanceId: inst.id, e2eMs: Date.now() - meta.timestamps.arrival, completionTokens: 0 });
      p.reject(new RequestCancelledError(meta.id, this.shutdown.signal.aborted ? 'control plane is shutting down' : 'request cancelled'));
      return;
    }
    if (err instanceof UpstreamError) {
      if (err.connectionFailure) this.prober.engineDown(inst.id);
      // Requeued only if some healthy instance serves it: else it would wait for an engine that may never return.
      if (err.retryable && p.attempts < this.opts.maxAttempts && this.healthyServes(meta)) {
        this.log.info({ requestId: meta.id, instance: inst.id, attempt: p.attempts, err: err.message }, 'retrying on another instance');
        p.excluded = new Set(p.excluded).add(inst.id);
        meta.status = RequestStatus.QUEUED;
        this.running.delete(meta.id);
        this.toQueue(p);
        this.queueWatch.arm(p);
        this.watchAbort(p);
        return;
      }
    }
    this.fail(p, err);
  }

  /** Other replicas hold every slot of the instance it was given: back to the queue, not counted as an attempt. */
  private requeue(p: Pending): void {
    this.running.delete(p.meta.id);
    if (this.closed) {
      this.detach(p);
      p.reject(new RequestCancelledError(p.meta.id, 'control plane is shutting down'));
      return;
    }
    p.meta.status = RequestStatus.QUEUED;
    this.toQueue(p);
    this.queueWatch.arm(p);
    this.watchAbort(p);
  }

  private fail(p: Pending, err: unknown): void {
    this.fromQueue(p);
    this.running.delete(p.meta.id);
    this.detach(p);
    p.meta.status = RequestStatus.FAILED;
    if (p.mode !== 'embedding') {
      const rejected = err instanceof RequestRejectedError;
      this.record(p.meta, { outcome: rejected ? 'rejected' : 'failed', errorCode: (err as { code?: string }).code, e2eMs: Date.now() - p.meta.timestamps.arrival, completionTokens: 0 });
    }
    p.reject(err);
  }

  /**
   * An embedding batch is served as one request but recorded per member, so its end is reported to the
   * estimator here: its embedding speed is then learnt per instance like an LLM's, not assumed.
   */
  private calibrateWhenDone<T>(meta: RequestMetadata, served: Promise<T>): Promise<T> {
    const estimator = this.estimator;
    if (!isLearningEstimator(estimator)) return served;
    return served.then(
      (out) => {
        estimator.finished(meta, { completed: true });
        return out;
      },
      (err: unknown) => {
        estimator.finished(meta, { completed: false });
        throw err;
      },
    );
  }

  private record(meta: RequestMetadata, r: RecordFields): void {
    const rec = toRequestRecord(meta, r);
    this.learning?.finished(meta, { completed: r.outcome === 'completed', completionTokens: r.completionTokens });
    this.audit.outcome(rec, meta.priority);
    // A request that finished has its end time read already: the same clock as the collector's.
    this.metrics.record(rec, meta.timestamps.finished);
    this.emit('finished', rec);
  }

  /** F-209 metrics as JSON: latency percentiles, throughput, SLO compliance overall and per priority, per-instance load. */
  /** Per instance: how far the latency estimates were from what happened (empty for an estimator that keeps no score). */
  estimatorAccuracy(): Record<string, AccuracySummary> {
    return isLearningEstimator(this.estimator) ? this.estimator.accuracy() : {};
  }

  admissionAudit(): AdmissionAuditSnapshot {
    return this.audit.snapshot();
  }

  getMetrics(): ControlPlaneMetricsSnapshot {
    this.metrics.observeInstances(this.registry.snapshot());
    return { ...this.metrics.snapshot(), estimator: this.estimatorAccuracy(), admission: this.audit.snapshot() };
  }

  /** Stops taking requests, rejects the queued ones, aborts those in flight and closes connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.embeddings.close();
    this.timers.close();
    if (this.circuitTimer) clearTimeout(this.circuitTimer);
    this.fresh = [];
    for (const p of this.queue.values()) {
      this.fromQueue(p);
      this.detach(p);
      p.reject(new RequestCancelledError(p.meta.id, 'control plane is shutting down'));
    }
    this.shutdown.abort(new RequestCancelledError(undefined, 'control plane is shutting down'));
    await this.executor.close();
  }
}

/** Where takeSettlers leaves a new promise's resolve and reject, read at once by its maker. */
const settlers: { resolve?: Pending['resolve']; reject?: Pending['reject'] } = {};
function takeSettlers(resolve: Pending['resolve'], reject: Pending['reject']): void {
  settlers.resolve = resolve;
  settlers.reject = reject;
}

function metaOf(head: readonly Pending[]): RequestMetadata[] {
  const out = new Array<RequestMetadata>(head.length);
  for (let i = 0; i < head.length; i++) out[i] = head[i]!.meta;
  return out;
}

/** The EDF horizon the policy gives requests without a deadline (60 s when it never orders by deadline). */
function bestEffortHorizon(policy: DisciplinedPolicy): number {
  const shape = { llmWithDeadline: 1, llmByPriority: [0, 0, 1, 0, 0], llm: 1, embeddings: 0, oldestEmbeddingArrival: Infinity, withDeadline: 1, byPriority: [0, 0, 1, 0, 0] };
  const d = policy.discipline(shape, Date.now());
  return d?.order.kind === 'deadline' ? d.order.bestEffortMs : 60_000;
}
