// Runs one dispatched request on the instance its decision chose: an embedding batch, a JSON completion, or a
// stream handed over once its first chunk is in hand — with prefill/decode separation (F-207) when it applies.
// It holds the request's instance leases (slot and breaker permit together, instance-lease.ts) and gives each back
// once with the engine's verdict; what happens to a request that failed (retry or fail) is the manager's call,
// through `onFailure`. A stream whose engine fails after its first chunk is continued on another instance
// (stream-failover.ts), each leg on a lease of its own.
import { END, nextChunk, type Chunk, type CircuitBreaker, type EngineExecutor, type JsonResult, type JsonSink } from '../executor';
import { buildDecodePayload, buildPrefillPayload, extractKvTransferParams } from '../pd';
import { RequestStatus, RequestType, type ExecutionInstance, type RequestMetadata, type SchedulingDecision } from '../types';
import type { EmbeddingRequests } from './embedding-requests';
import { hasCapacity, servingInstances } from './instance-checks';
import type { PendingRequest } from './pending-request';
import { pickPdPair, type PdPairingContext } from './pd-pairing';
import type { InstanceRegistry } from './registry';
import { llmPath, llmPayload, type InferenceStream } from './request';
import { upstreamRequestId } from './upstream-request-id';
import { engineOutcome, engineOutcomeInto, type RecordFields } from './request-record';
import { UpstreamError } from './errors';
import { InstanceLease, type InstanceLeaseDeps, type LeaseOutcome, type LeaseVerdict, type SharedSlots } from './instance-lease';
import { FailoverStream, type FailoverContext, type StreamFailover } from './stream-failover';
import { wrapUpstreamStream } from './upstream-stream';
import { StreamCut } from './stream-cut';
import { RefList } from '../ref-list';

export interface RequestRunnerOptions {
  registry: InstanceRegistry;
  executor: EngineExecutor;
  pairing: PdPairingContext;
  breaker: (id: string) => CircuitBreaker;
  /** Slots across replicas (LOCAL_SLOTS without a shared state store). */
  slots: SharedSlots;
  embeddings: Pick<EmbeddingRequests, 'noteScheduled'>;
  /** Aborts every call in flight at close. */
  shutdown: AbortSignal;
  record: (meta: RequestMetadata, fields: RecordFields) => void;
  /** A call failed on `inst` before anything reached the caller (its leases are already given back). */
  onFailure: (p: PendingRequest, inst: ExecutionInstance, err: unknown) => void;
  /** The request is over: it leaves the running set and its abort listener goes. */
  leaveRunning: (p: PendingRequest) => void;
  /** An attempt ended without a stream handed to the caller (done, failed, or requeued for a retry). */
  afterAttempt: (p: PendingRequest) => void;
  /** Other replicas hold every slot of the chosen instance: the request waits in the queue again. */
  requeue: (p: PendingRequest) => void;
  /** A slot came free: time for a dispatch run. */
  kick: () => void;
  /** An engine looks down (its connection broke or it went silent): out of rotation until its /health answers. */
  engineDown?: (id: string) => void;
  /** A stream moved to another instance mid-way. */
  onFailover?: (event: StreamFailover) => void;
  /** A stream whose engine failed could not move (it ends with an error event). */
  onFailoverRefused?: (requestId: string, from: string, why: string) => void;
  /** Instances a stream may use in turn, the first included (default 3). */
  maxStreamLegs?: number;
  /** An LLM request succeeded on `inst` taking `msPerToken` per generated token, ending at `now` (latency-outliers.ts). */
  observeLatency?: (inst: ExecutionInstance, msPerToken: number, now: number) => void;
}

/** The engine's verdict from a failure before the caller got anything: a 4xx answer proves the engine alive. */
export function verdictOf(err: unknown, cancelled: boolean): LeaseVerdict {
  if (cancelled) return 'none';
  if (err instanceof UpstreamError) return err.upstreamStatus === undefined || err.upstreamStatus >= 500 ? 'failure' : 'success';
  return 'failure';
}

/** The leases of a prefill/decode pair; a leg run on the chosen instance holds the chosen instance's lease. */
interface LeasedPair {
  prefill: ExecutionInstance;
  decode: ExecutionInstance;
  prefillLease: InstanceLease;
  decodeLease: InstanceLease;
}

export class RequestRunner {
  /** The cuts of the streams handed to callers, all made at once at shutdown (no listener per stream on it). */
  // A RefList, not a Set: every stream passes through it (ref-list.ts says why that matters).
  private readonly streams = new RefList<StreamCut>();
  /** What a lease needs, made once rather than per request. */
  private readonly leaseDeps: InstanceLeaseDeps;
  /** The figures of a successful request handed to its lease (read at once by the registry). */
  private readonly outcome: LeaseOutcome = { latencyMs: 0, ttftMs: undefined, outputTokens: undefined };
  /** The record fields of a JSON answer, read at once by `record`. */
  private readonly fields: RecordFields = { outcome: 'completed', instanceId: undefined, policy: undefined, queueMs: 0, e2eMs: 0, completionTokens: undefined, promptTokens: undefined, finishReason: undefined };

  constructor(private readonly o: RequestRunnerOptions) {
    this.leaseDeps = { registry: o.registry, breaker: o.breaker, slots: o.slots };
    o.shutdown.addEventListener('abort', () => {
      for (const cut of this.streams.keys()) cut.abort(o.shutdown.reason);
    }, { once: true });
  }

  /** A lease on `inst` (slot and breaker permit), or undefined when its circuit refuses. */
  take(inst: Pick<ExecutionInstance, 'id' | 'maxConcurrency'>): InstanceLease | undefined {
    return InstanceLease.take(this.leaseDeps, inst);
  }

  /** Failover for one stream: each leg's lease lives in `leases` (by instance) until the leg fails or the stream ends. */
  private failoverContext(leases: Map<string, InstanceLease>): FailoverContext {
    const o = this.o;
    return {
      executor: o.executor,
      maxLegs: Math.max(1, o.maxStreamLegs ?? 3),
      pick: (meta, excluded) => this.pickFailoverTarget(meta, excluded, leases),
      legFailed: (inst, reason) => {
        // A 4xx answer to the continuation is no verdict on the engine.
        leases.get(inst.id)?.release(reason === undefined ? 'none' : 'failure');
        leases.delete(inst.id);
        if (reason === 'connection_lost' || reason === 'idle_timeout') o.engineDown?.(inst.id);
        if (reason === 'idle_timeout') this.cutWaitingCalls(inst.id);
      },
      moved: (event) => o.onFailover?.(event),
      notMoved: (requestId, from, why) => o.onFailoverRefused?.(requestId, from, why),
    };
  }

  /**
   * An engine went silent mid-stream: the calls still waiting for its answer would wait as long (up to the request
   * timeout). Nothing of theirs reached a caller, so they are cut as retryable failures and run elsewhere.
   */
  private cutWaitingCalls(id: string): void {
    this.o.executor.cutWaiting(id, new UpstreamError(`engine ${id} stalled: no chunk within the stream idle timeout on another request`, { instanceId: id, beforeFirstByte: true, timeout: true }));
  }

  /** A usable instance serving the request, preferring one with a free slot (the router chooses); its lease is taken. */
  private async pickFailoverTarget(meta: RequestMetadata, excluded: ReadonlySet<string>, leases: Map<string, InstanceLease>): Promise<ExecutionInstance | undefined> {
    const { registry, router, usable } = this.o.pairing;
    const candidates = servingInstances(meta, registry.snapshot((i) => usable(i) && !excluded.has(i.id)));
    if (candidates.length === 0) return undefined;
    const withRoom = candidates.filter((i) => hasCapacity(i));
    const routed = router.route(meta, withRoom.length > 0 ? withRoom : candidates);
    for (const c of routed ? [routed, ...candidates.filter((i) => i.id !== routed.id)] : candidates) {
      const inst = registry.get(c.id);
      const lease = inst ? this.take(inst) : undefined;
      // Across replicas a full instance is skipped (the stream continues elsewhere or ends as before).
      if (!inst || !lease || !(await lease.confirm())) continue;
      leases.set(inst.id, lease);
      return inst;
    }
    return undefined;
  }

  /** Runs `p` on `chosen` (its lease taken); a promise only when the run goes through the general async path. */
  run(p: PendingRequest, lease: InstanceLease, chosen: ExecutionInstance, d: SchedulingDecision): Promise<void> | void {
    // Confirmed once, here: with shared slots confirming asks the store.
    const confirmed = lease.confirmNow();
    // The common case, a JSON answer from the chosen instance with its slot confirmed at once (local slots), starts
    // without an async function: one with an await costs ~0.4 KB per call in promises and its suspended frame,
    // about twice what callbacks on the engine call cost. It is runAny's JSON case without the awaits before the call.
    if (confirmed === true && p.mode === 'json' && !this.o.pairing.pd.enabled) return this.runJson(p, lease, chosen, d);
    return this.runAny(p, lease, chosen, d, confirmed);
  }

  /** runAny() for a JSON request on `chosen` alone whose slot is confirmed: the same steps, with nothing to await. */
  private runJson(p: PendingRequest, lease: InstanceLease, chosen: ExecutionInstance, d: SchedulingDecision): void {
    try {
      this.start(p);
      this.callJson(p, lease, undefined, chosen, lease, llmPath(p.meta), this.payload(p, chosen, false), d, d, undefined);
    } catch (err) {
      // Handled now, as an async function would before its first await; what its handling throws would have
      // rejected that function's (unawaited) promise, and does so here too rather than reach the dispatch loop.
      try {
        this.attemptFailed(p, lease, undefined, chosen, lease, err);
      } catch (thrown) {
        void Promise.reject(thrown);
      }
    }
  }

  /** The attempt starts: unless the caller or the control plane already gave up, it runs and counts as an attempt. */
  private start(p: PendingRequest): void {
    this.o.shutdown.throwIfAborted();
    p.signal?.throwIfAborted();
    const meta = p.meta;
    meta.status = RequestStatus.RUNNING;
    meta.timestamps.started = Date.now();
    p.attempts += 1;
  }

  /** The engine's body for an LLM request run on `inst`. */
  private payload(p: PendingRequest, inst: ExecutionInstance, stream: boolean): Record<string, unknown> {
    const meta = p.meta;
    return llmPayload(meta, meta.model || inst.models.find((m) => m !== '*') || '', p.extra, stream);
  }

  /**
   * The JSON call on `target` (held by `targetLease`) and the rest of the run, on its callbacks: the answer or the
   * failure, then the run's end. `lease` and `pair` are every lease the run holds (given back at its end).
   */
  private callJson(
    p: PendingRequest,
    lease: InstanceLease,
    pair: LeasedPair | undefined,
    target: ExecutionInstance,
    targetLease: InstanceLease,
    path: string,
    payload: Record<string, unknown>,
    d: SchedulingDecision,
    decision: SchedulingDecision,
    prefillInstanceId: string | undefined,
  ): void {
    // A sink rather than a promise: the answer comes as the call ends, with no promise or microtask on the way. One
    // object holds the attempt's state, where two closures would share a context and an object to hold them.
    const sink = new RequestRunner.JsonAttempt(this, p, lease, pair, target, targetLease, d, decision, prefillInstanceId);
    this.o.executor.postJsonTo(target, path, payload, sink, { signal: p.signal, requestId: upstreamRequestId(p.meta), cutWhenStalled: true });
  }

  /** A JSON attempt's outcome, as callJson's sink: declared in the class body, so it may call the runner's own steps. */
  private static readonly JsonAttempt = class JsonAttempt implements JsonSink {
    constructor(
      private readonly runner: RequestRunner,
      private readonly p: PendingRequest,
      private readonly lease: InstanceLease,
      private readonly pair: LeasedPair | undefined,
      private readonly target: ExecutionInstance,
      private readonly targetLease: InstanceLease,
      private readonly d: SchedulingDecision,
      private readonly decision: SchedulingDecision,
      private readonly prefillInstanceId: string | undefined,
    ) {}

    answered(res: JsonResult): void {
      const runner = this.runner;
      try {
        runner.answered(this.p, this.targetLease, this.target, this.d, res, this.prefillInstanceId, this.decision);
      } catch (err) {
        runner.attemptFailed(this.p, this.lease, this.pair, this.target, this.targetLease, err);
        return;
      }
      runner.ended(this.p, this.lease, this.pair);
    }

    failed(err: unknown): void {
      this.runner.attemptFailed(this.p, this.lease, this.pair, this.target, this.targetLease, err);
    }
  };

  /** The attempt failed on `current` before anything reached the caller, and is over. */
  private attemptFailed(p: PendingRequest, lease: InstanceLease, pair: LeasedPair | undefined, current: ExecutionInstance, currentLease: InstanceLease, err: unknown): void {
    try {
      this.failed(p, lease, pair, current, currentLease, undefined, err);
    } finally {
      this.ended(p, lease, pair);
    }
  }

  /**
   * A failure on `current`: its lease carries the engine's verdict, any other the run holds but the one `handed` to
   * a stream goes back without one, and the manager decides what follows (retry or fail).
   */
  private failed(p: PendingRequest, lease: InstanceLease, pair: LeasedPair | undefined, current: ExecutionInstance, currentLease: InstanceLease, handed: InstanceLease | undefined, err: unknown): void {
    const verdict = verdictOf(err, Boolean(p.signal?.aborted) || this.o.shutdown.aborted);
    if (currentLease !== handed) currentLease.release(verdict);
    this.releaseAll(lease, pair, handed);
    this.o.onFailure(p, current, err);
  }

  /** The end of an attempt that handed no stream to the caller, whatever its outcome. */
  private ended(p: PendingRequest, lease: InstanceLease, pair: LeasedPair | undefined): void {
    this.releaseAll(lease, pair, undefined);
    this.o.afterAttempt(p);
    this.o.kick();
  }

  /** A JSON answer in hand: the lease goes back with success, the request is recorded and its caller answered. */
  private answered(p: PendingRequest, lease: InstanceLease, target: ExecutionInstance, d: SchedulingDecision, res: JsonResult, prefillInstanceId: string | undefined, decision: SchedulingDecision): void {
    const meta = p.meta;
    // The record's fields (one object: record() reads them at once), the engine's usage and finish reason written
    // straight into them.
    const fields = this.fields;
    fields.instanceId = target.id;
    fields.policy = d.policy;
    engineOutcomeInto(res.body, fields);
    const completionTokens = fields.completionTokens ?? 0;
    fields.completionTokens = completionTokens;
    // One clock reading for the request's end: its finish time, the lease's latency and the record's.
    const now = Date.now();
    this.succeed(lease, target, meta, completionTokens, true, now);
    const queueMs = (meta.timestamps.scheduled ?? now) - meta.timestamps.arrival;
    fields.queueMs = queueMs;
    fields.e2eMs = now - meta.timestamps.arrival;
    this.o.record(meta, fields);
    p.resolve({ requestId: meta.id, instanceId: target.id, prefillInstanceId, decision, body: res.body, rawBody: res.text, timings: { queueMs, e2eMs: now - meta.timestamps.arrival } });
  }

  /** Any request, `confirmed` what the lease's confirmNow() answered. */
  private async runAny(p: PendingRequest, lease: InstanceLease, chosen: ExecutionInstance, d: SchedulingDecision, confirmed: boolean | Promise<boolean>): Promise<void> {
    const { executor } = this.o;
    const meta = p.meta;
    // The caller's signal as it is: shutdown reaches calls through the executor's close, streams through `streams`.
    const signal = p.signal;
    // The leases this run took: `lease`, and a prefill/decode pair's. Each is given back once (a lease's release
    // is idempotent), in `catch`/`finally` unless given back before or handed to the stream wrapper (`handed`),
    // or unless the JSON call's callbacks took over the rest of the run (`called`).
    let pair: LeasedPair | undefined;
    let current = chosen;
    let currentLease = lease;
    let handed: InstanceLease | undefined;
    let called = false;
    try {
      if (!(confirmed === true || (confirmed !== false && (await confirmed)))) {
        this.o.requeue(p);
        return;
      }
      this.start(p);
      if (p.mode === 'embedding') {
        const body: Record<string, unknown> = { ...(p.extra ?? {}), model: meta.model || chosen.models[0], input: meta.embeddingTokenIds ?? meta.embeddingTexts };
        this.o.embeddings.noteScheduled(meta, { instanceId: chosen.id, policy: d.policy, scheduledAt: meta.timestamps.scheduled, decision: d });
        const res = await executor.postJson(chosen, '/embeddings', body, { signal, requestId: upstreamRequestId(meta) });
        const data = Array.isArray(res.body.data) ? (res.body.data as Array<{ index?: number; embedding: number[] | string }>) : [];
        const ordered = [...data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0)).map((e) => e.embedding);
        this.succeed(lease, chosen, meta);
        p.resolve({ embeddings: ordered, model: typeof res.body.model === 'string' ? res.body.model : body.model as string, promptTokens: engineOutcome(res.body).promptTokens });
        return;
      }

      const stream = p.mode === 'stream';
      const payload = this.payload(p, chosen, stream);
      const path = llmPath(meta);
      const split = pickPdPair(this.o.pairing, meta, chosen, d, p.excluded);
      pair = split ? await this.leasePair(split, lease, chosen) : undefined;
      let prefillInstanceId: string | undefined;
      let target = chosen;
      let targetLease = lease;
      let finalPayload = payload;
      if (pair) {
        current = pair.prefill;
        currentLease = pair.prefillLease;
        const pre = await executor.postJson(pair.prefill, path, buildPrefillPayload(payload), { signal, requestId: `${upstreamRequestId(meta)}-prefill` });
        pair.prefillLease.release('success', { latencyMs: Date.now() - (meta.timestamps.started ?? Date.now()) });
        prefillInstanceId = pair.prefill.id;
        target = pair.decode;
        targetLease = pair.decodeLease;
        current = target;
        currentLease = targetLease;
        finalPayload = buildDecodePayload(payload, extractKvTransferParams(pre.body));
      }
      const decision: SchedulingDecision = pair ? { ...d, instanceId: pair.prefill.id, decodeInstanceId: pair.decode.id } : d;

      if (!stream) {
        this.callJson(p, lease, pair, target, targetLease, path, finalPayload, d, decision, prefillInstanceId);
        called = true;
        return;
      }

      // The first chunk is awaited here so that a failure before any byte reached the caller is still retryable.
      const started = await executor.postStream(target, path, finalPayload, { signal, requestId: upstreamRequestId(meta), cutWhenStalled: true });
      const source = started.source;
      // As a rule the first chunk came with the headers and is in hand now: no wait for it.
      let taken = source.take();
      if (taken === undefined) taken = await nextChunk(source);
      const first = taken === END ? undefined : taken;
      const firstRaw = source.raw;
      meta.timestamps.firstToken = Date.now();
      // The stream owns the target's lease from here, and the leases of the legs it may move to.
      // set() rather than the constructor's iterable of pairs: no iterator protocol on the way to the first token.
      const legs = new Map<string, InstanceLease>().set(target.id, targetLease);
      handed = targetLease;
      const kind = meta.type === RequestType.LLM_CHAT ? 'chat' : 'completion';
      const cut = this.streamCut(p.signal);
      const moving = new FailoverStream({ ctx: this.failoverContext(legs), meta, path, payload, kind, instance: target, first, rest: source, cut });
      p.resolve(this.handOver(p, moving, legs, decision, prefillInstanceId, first, firstRaw, cut));
    } catch (err) {
      this.failed(p, lease, pair, current, currentLease, handed, err);
    } finally {
      if (!called) {
        if (!handed) this.ended(p, lease, pair);
        else this.o.kick();
      }
    }
  }

  /** Gives back (no verdict) whichever of a run's leases are still held, but the one handed to a stream. */
  private releaseAll(lease: InstanceLease, pair: LeasedPair | undefined, handed: InstanceLease | undefined): void {
    if (lease !== handed) lease.release('none');
    if (!pair) return;
    if (pair.prefillLease !== handed) pair.prefillLease.release('none');
    if (pair.decodeLease !== handed) pair.decodeLease.release('none');
  }

  /**
   * Leases for a prefill/decode pair (the decode slot is held from the start, so prefill cannot find it taken
   * afterwards); `chosen`'s lease is given back when it is in neither leg. When a leg's slot cannot be had across
   * replicas, the request runs unsplit on `chosen` instead.
   */
  private async leasePair(pair: { prefill: ExecutionInstance; decode: ExecutionInstance }, lease: InstanceLease, chosen: ExecutionInstance): Promise<LeasedPair | undefined> {
    const taken: InstanceLease[] = [];
    const legLease = async (inst: ExecutionInstance): Promise<InstanceLease | undefined> => {
      if (inst.id === chosen.id) return lease;
      const l = this.take(inst);
      if (!l || !(await l.confirm())) {
        l?.release('none');
        return undefined;
      }
      taken.push(l);
      return l;
    };
    const prefillLease = await legLease(pair.prefill);
    const decodeLease = prefillLease && (await legLease(pair.decode));
    if (!prefillLease || !decodeLease) {
      for (const t of taken) t.release('none');
      return undefined;
    }
    if (pair.prefill.id !== chosen.id && pair.decode.id !== chosen.id) lease.release('none');
    return { prefill: pair.prefill, decode: pair.decode, prefillLease, decodeLease };
  }

  /** A handed-over stream's cut: the caller's signal (one listener) or shutdown (the `streams` set); released when the stream ends. */
  private streamCut(caller: AbortSignal | undefined): StreamCut {
    const cut = new StreamCut(caller, this.o.shutdown);
    if (!cut.aborted) this.streams.set(cut, true);
    return cut;
  }

  private succeed(lease: InstanceLease | undefined, inst: ExecutionInstance, meta: RequestMetadata, outputTokens?: number, sample = true, now = Date.now()): void {
    const started = meta.timestamps.started ?? now;
    // A stream that moved mid-way says nothing about the speed of the instance that finished it.
    if (sample && meta.type !== RequestType.EMBEDDING) this.o.observeLatency?.(inst, (now - started) / Math.max(1, outputTokens ?? 0), now);
    // The registry folds the figures in at once and keeps nothing: one object serves every request.
    const outcome = this.outcome;
    outcome.latencyMs = now - started;
    outcome.ttftMs = meta.timestamps.firstToken !== undefined ? meta.timestamps.firstToken - started : undefined;
    outcome.outputTokens = outputTokens;
    lease?.release('success', outcome);
    meta.status = RequestStatus.COMPLETED;
    meta.timestamps.finished = now;
  }

  /** The caller's stream; its end frees the slot on the instance serving it, tells the breaker and records the request. */
  private handOver(
    p: PendingRequest,
    moving: FailoverStream,
    legs: Map<string, InstanceLease>,
    decision: SchedulingDecision,
    prefillInstanceId: string | undefined,
    first: Chunk | undefined,
    firstRaw: string | undefined,
    cut: StreamCut,
  ): InferenceStream {
    const meta = p.meta;
    return wrapUpstreamStream({
      requestId: meta.id,
      instanceId: moving.instance.id,
      prefillInstanceId,
      decision,
      first,
      firstRaw,
      rest: moving,
      cut,
      shutdown: this.o.shutdown,
      failovers: moving.failovers,
      onEnd: ({ error, cancelled, completionTokens, promptTokens, finishReason }) => {
        this.streams.delete(cut);
        cut.release();
        this.o.leaveRunning(p);
        const inst = moving.instance;
        const now = Date.now();
        const queueMs = (meta.timestamps.scheduled ?? now) - meta.timestamps.arrival;
        const ttftMs = (meta.timestamps.firstToken ?? now) - meta.timestamps.arrival;
        if (error === undefined) {
          this.succeed(legs.get(inst.id), inst, meta, completionTokens, moving.failovers.length === 0);
          legs.delete(inst.id);
          this.o.record(meta, { outcome: 'completed', instanceId: inst.id, policy: decision.policy, queueMs, ttftMs, e2eMs: now - meta.timestamps.arrival, completionTokens, promptTokens, finishReason });
        } else {
          // A leg that failed over gave its lease back already.
          if (moving.holdsSlot) legs.get(inst.id)?.release(cancelled ? 'none' : 'failure');
          legs.delete(inst.id);
          meta.status = cancelled ? RequestStatus.CANCELLED : RequestStatus.FAILED;
          const errorCode = cancelled ? 'request_cancelled' : (error as { code?: string }).code;
          this.o.record(meta, { outcome: cancelled ? 'cancelled' : 'failed', errorCode, instanceId: inst.id, policy: decision.policy, queueMs, ttftMs, e2eMs: now - meta.timestamps.arrival, completionTokens, promptTokens });
        }
        this.o.kick();
      },
    });
  }
}
