// HTTP to engines (F-208): one undici keep-alive Pool per engine origin, JSON and SSE-streaming POSTs,
// timeouts, and errors classified so the manager knows whether a retry elsewhere is safe (nothing reached
// the caller yet) and whether the engine looks down (connection-level failure).
// Timeouts follow what users of the OpenAI SDK / LiteLLM expect: a JSON call is bounded as a whole; a stream
// is bounded until its first chunk, then only by the idle time between chunks (stream-timeouts.ts).
import { Pool } from 'undici';
import type { ExecutionInstance } from '../types';
import { UpstreamError } from '../manager/errors';
import type { ChunkSource } from './chunk-source';
import { StreamCall } from './stream-call';
import { JsonCall, failLater, type JsonCallOwner } from './json-call';
import { WaitingCalls } from './waiting-calls';
import { CallDeadlines } from './call-deadlines';
import type { CallOptions, JsonResult, JsonSink } from './call-types';

export type { CallOptions, JsonResult, JsonSink } from './call-types';

export interface ExecutorOptions {
  /** Connections per engine. */
  connectionsPerInstance?: number;
  keepAliveTimeoutMs?: number;
  /**
   * Default per-request timeout, ms (default 60 000): the whole of a JSON call; for a stream, the time until
   * its first chunk (time to first token).
   */
  requestTimeoutMs?: number;
  /** Longest silence between two chunks of a stream once its first chunk arrived, ms (default 30 000; 0 = none). */
  streamIdleTimeoutMs?: number;
}

/** A started stream: headers were received with a 2xx status; chunks are the parsed `data:` payloads. */
export interface StreamResult {
  status: number;
  /** The chunks as their layers take them (chunk-source.ts). */
  source: ChunkSource;
  /** The same chunks for a consumer that iterates (made on first use). */
  readonly chunks: AsyncIterable<Record<string, unknown>>;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
]);

function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export class EngineExecutor {
  private readonly pools = new Map<string, Pool>();
  /** Origin and path prefix of each base URL seen, so that a call parses no URL, and its routes' full paths joined once. */
  private readonly bases = new Map<string, { origin: string; prefix: string; paths: Map<string, string> }>();
  /** Calls still waiting for an engine's answer (a JSON call until its body is read, a stream until its first chunk), by instance. */
  // Per instance a list linked through the calls, not a Set: every call passes through it (waiting-calls.ts).
  private readonly waiting = new Map<string, WaitingCalls>();
  /** What makes a JSON call's result, made once rather than per call. */
  private readonly jsonOwner: JsonCallOwner = {
    result: (call, status, text) => {
      if (status < 200 || status >= 300) throw EngineExecutor.statusErrorOf(call.instance, status, text, call.options.requestId);
      return { status, body: JSON.parse(text) as Record<string, unknown>, text };
    },
    // A body that fails after a 2xx status is still "before first byte" for the caller: nothing was passed on.
    failure: (call, err) => this.classify(err, call.instance, true, call.timedOut, call.options.signal, call.options.requestId),
    over: (call) => {
      call.end();
      this.answered(call);
    },
  };
  private readonly opts: Required<ExecutorOptions>;
  /** The calls with the default request timeout, on one timer (undefined for a duration Node's timers would change). */
  private readonly deadlines: CallDeadlines | undefined;
  private closed = false;

  constructor(opts: ExecutorOptions = {}) {
    this.opts = {
      connectionsPerInstance: opts.connectionsPerInstance ?? 64,
      keepAliveTimeoutMs: opts.keepAliveTimeoutMs ?? 30_000,
      requestTimeoutMs: opts.requestTimeoutMs ?? 60_000,
      streamIdleTimeoutMs: opts.streamIdleTimeoutMs ?? 30_000,
    };
    const ms = this.opts.requestTimeoutMs;
    this.deadlines = CallDeadlines.fits(ms) ? new CallDeadlines(ms, `no answer within ${ms} ms`) : undefined;
  }

  private base(baseUrl: string): { origin: string; prefix: string; paths: Map<string, string> } {
    let b = this.bases.get(baseUrl);
    if (!b) {
      const url = new URL(baseUrl);
      b = { origin: url.origin, prefix: url.pathname.replace(/\/+$/, ''), paths: new Map() };
      this.bases.set(baseUrl, b);
    }
    return b;
  }

  private target(instance: ExecutionInstance, path: string): { pool: Pool; path: string } {
    const { origin, prefix, paths } = this.base(instance.baseUrl);
    let pool = this.pools.get(origin);
    if (!pool) {
      if (this.closed) throw new Error('executor is closed');
      // No undici headers/body timeouts: every call has sage's own clocks (the request timeout; a stream's idle
      // timeout, whose 0 means no bound), and undici's 300 s defaults would be a second, undocumented bound that
      // also costs a timer switch and a timer object kept ~1 s per request.
      pool = new Pool(origin, { connections: this.opts.connectionsPerInstance, keepAliveTimeout: this.opts.keepAliveTimeoutMs, pipelining: 1, headersTimeout: 0, bodyTimeout: 0 });
      this.pools.set(origin, pool);
    }
    // The few routes an engine is called on, joined to the prefix once rather than per call.
    let full = paths.get(path);
    if (full === undefined) paths.set(path, (full = `${prefix}${path.startsWith('/') ? path : `/${path}`}`));
    return { pool, path: full };
  }

  /** The call enters the set of calls waiting on `instanceId` (see cutWaiting). */
  private wait(instanceId: string, call: JsonCall | StreamCall, opts: CallOptions): void {
    if (!opts.cutWhenStalled) return;
    let list = this.waiting.get(instanceId);
    if (!list) this.waiting.set(instanceId, (list = new WaitingCalls()));
    list.add(call);
  }

  private answered(call: JsonCall | StreamCall): void {
    // The instance's list stays when it empties (made again per request under light load); forget() drops it.
    call.waitingIn?.remove(call);
  }

  /**
   * Aborts with `reason` every call still waiting for `instanceId`'s answer (nothing of theirs reached a caller):
   * an engine found stalled would keep them waiting up to the request timeout.
   */
  cutWaiting(instanceId: string, reason: unknown): void {
    for (const call of this.waiting.get(instanceId)?.calls() ?? []) call.abort(reason);
  }

  /** The request's headers as undici's flat name/value array (an object would cost it a key list and a prototype check). */
  private headers(instance: ExecutionInstance, stream: boolean, requestId?: string): string[] {
    const accept = stream ? 'text/event-stream' : 'application/json';
    const key = instance.apiKey;
    if (key) {
      const auth = `Bearer ${key}`;
      return requestId ? ['content-type', 'application/json', 'accept', accept, 'authorization', auth, 'x-request-id', requestId] : ['content-type', 'application/json', 'accept', accept, 'authorization', auth];
    }
    return requestId ? ['content-type', 'application/json', 'accept', accept, 'x-request-id', requestId] : ['content-type', 'application/json', 'accept', accept];
  }

  private classify(err: unknown, instance: ExecutionInstance, beforeFirstByte: boolean, timedOut: boolean, callerSignal?: AbortSignal, requestId?: string): Error {
    if (err instanceof UpstreamError) return err;
    if (callerSignal?.aborted) return callerSignal.reason instanceof Error ? callerSignal.reason : new Error('aborted');
    if (timedOut) {
      return new UpstreamError(`engine ${instance.id} timed out`, { instanceId: instance.id, beforeFirstByte, timeout: true, requestId, cause: err });
    }
    const code = errorCode(err);
    const message = err instanceof Error ? err.message : String(err);
    return new UpstreamError(`engine ${instance.id} failed: ${code ?? message}`, {
      instanceId: instance.id,
      beforeFirstByte,
      connectionFailure: beforeFirstByte && code !== undefined && CONNECTION_CODES.has(code),
      requestId,
      cause: err,
    });
  }

  private static errorMessage(instanceId: string, status: number, body: unknown): string {
    const inner = (body as { error?: { message?: unknown } } | undefined)?.error?.message;
    return `engine ${instanceId} answered ${status}${typeof inner === 'string' ? `: ${inner}` : ''}`;
  }

  /** A non-2xx answer: nothing was passed on to the caller, so it is "before the first byte" (a retry may be safe). */
  private static statusErrorOf(instance: ExecutionInstance, status: number, text: string, requestId?: string): UpstreamError {
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      body = text;
    }
    return new UpstreamError(EngineExecutor.errorMessage(instance.id, status, body), {
      instanceId: instance.id,
      upstreamStatus: status,
      upstreamBody: body,
      beforeFirstByte: true,
      requestId,
    });
  }

  /** POST a JSON body and read a JSON answer. Non-2xx answers become an UpstreamError (before first byte). */
  postJson(instance: ExecutionInstance, path: string, payload: unknown, opts: CallOptions = {}): Promise<JsonResult> {
    return new Promise<JsonResult>((resolve, reject) => this.postJsonTo(instance, path, payload, { answered: resolve, failed: reject }, opts));
  }

  /**
   * postJson() with its outcome handed to `sink` rather than a promise: the answer as the call ends (no promise,
   * callbacks or microtask per call), a failure as a rejection would reach its handler.
   */
  postJsonTo(instance: ExecutionInstance, path: string, payload: unknown, sink: JsonSink, opts: CallOptions = {}): void {
    let t: { pool: Pool; path: string };
    try {
      t = this.target(instance, path);
    } catch (err) {
      failLater(sink, err);
      return;
    }
    const timeoutMs = opts.timeoutMs ?? this.opts.requestTimeoutMs;
    const call = new JsonCall(opts.signal, this.jsonOwner, instance, opts);
    if (this.deadlines && timeoutMs === this.deadlines.ms) call.timeoutOn(this.deadlines);
    else call.timeout(timeoutMs, `no answer within ${timeoutMs} ms`);
    this.wait(instance.id, call, opts);
    call.send(t.pool, { path: t.path, method: 'POST', headers: this.headers(instance, false, opts.requestId), body: '' }, payload, sink);
  }

  /**
   * POST with `stream: true` and return once headers arrived. Failures up to that point throw (retryable
   * elsewhere); failures while iterating throw UpstreamError with beforeFirstByte=false. The request timeout
   * runs until the first chunk, then the idle timeout between chunks; either one firing aborts the upstream
   * request (the engine sees the client leave and frees its slot) and ends the stream with upstream_timeout.
   */
  postStream(instance: ExecutionInstance, path: string, payload: unknown, opts: CallOptions = {}): Promise<StreamResult> {
    let t: { pool: Pool; path: string };
    let body: string;
    try {
      t = this.target(instance, path);
      body = JSON.stringify(payload);
    } catch (err) {
      return Promise.reject(err);
    }
    const requestId = opts.requestId;
    // One abort for the whole call: the caller's abort, both clocks and a cut all abort it.
    const call: StreamCall = new StreamCall(opts.signal, opts.timeoutMs ?? this.opts.requestTimeoutMs, opts.idleTimeoutMs ?? this.opts.streamIdleTimeoutMs, {
      /** One event's payload as a chunk object, or the engine's failure it reports. */
      decode: (data, first) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(data);
        } catch (err) {
          throw new UpstreamError(`engine ${instance.id} sent a malformed stream event`, { instanceId: instance.id, beforeFirstByte: first, requestId, cause: err });
        }
        if (parsed && typeof parsed === 'object' && 'error' in parsed) {
          throw new UpstreamError(EngineExecutor.errorMessage(instance.id, 500, parsed), { instanceId: instance.id, beforeFirstByte: first, upstreamBody: parsed, requestId });
        }
        return parsed as Record<string, unknown>;
      },
      classify: (err, first) => this.classify(err, instance, first, call.timedOut, opts.signal, requestId),
      statusError: (status, text) => EngineExecutor.statusErrorOf(instance, status, text, requestId),
      answered: () => this.answered(call),
    });
    this.wait(instance.id, call, opts);
    // Not async: the call itself is the started stream, handed on without another promise on the way to the first token.
    return call.send(t.pool, { path: t.path, method: 'POST', headers: this.headers(instance, true, requestId), body });
  }

  /** GET returning text (e.g. /metrics, /health) with a short timeout. */
  async getText(instance: ExecutionInstance, absolutePath: string, timeoutMs = 2000): Promise<{ status: number; text: string }> {
    const t = this.target(instance, '/');
    const res = await t.pool.request({ path: absolutePath.startsWith('/') ? absolutePath : `/${absolutePath}`, method: 'GET', signal: AbortSignal.timeout(timeoutMs), headers: instance.apiKey ? { authorization: `Bearer ${instance.apiKey}` } : {} });
    const text = await res.body.text();
    return { status: res.statusCode, text };
  }

  /** Drops the pool of an unregistered engine once its requests in flight have finished. */
  async forget(instance: ExecutionInstance): Promise<void> {
    this.waiting.delete(instance.id);
    const origin = new URL(instance.baseUrl).origin;
    const pool = this.pools.get(origin);
    if (!pool) return;
    this.pools.delete(origin);
    await pool.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.destroy().catch(() => undefined)));
  }
}
