// Mid-stream failover: the chunks of a started stream, continued on another instance when its engine fails after
// the first chunk (connection lost, idle timeout, error event). The caller sees one stream; each later leg is a
// continuation request (stream-continuation.ts). A stream that cannot move (n > 1, tool calls, no other instance,
// the caller gone) ends with the leg's error, as it always did.
import { END, type Chunk, type ChunkSource, type EngineExecutor, type Taken } from '../executor';
import type { ExecutionInstance, RequestMetadata } from '../types';
import { upstreamRequestId } from './upstream-request-id';
import type { StreamCut } from './stream-cut';
import { continuationPayload, failoverReason, rewriteChunk, StreamProgress, type FailoverReason, type StreamKind } from './stream-continuation';

/** One move of a stream from an instance to another, for metrics and logs. */
export interface StreamFailover {
  requestId: string;
  from: string;
  to: string;
  reason: FailoverReason;
  /** Tokens the caller had received when the engine failed. */
  tokensSoFar: number;
}

export interface FailoverContext {
  executor: EngineExecutor;
  /** Another healthy instance that serves the request, its slot taken (across replicas too); undefined when there is none. */
  pick(meta: RequestMetadata, excluded: ReadonlySet<string>): ExecutionInstance | undefined | Promise<ExecutionInstance | undefined>;
  /** A leg failed on `inst`: its slot is given back and the engine's failure recorded. */
  legFailed(inst: ExecutionInstance, reason: FailoverReason | undefined): void;
  /** The stream moved to another instance. */
  moved(event: StreamFailover): void;
  /** Why a stream that failed was not continued (logs). */
  notMoved(requestId: string, from: string, why: string): void;
  /** Legs at most, the first included. */
  maxLegs: number;
}

export interface FailoverStreamOptions {
  ctx: FailoverContext;
  meta: RequestMetadata;
  path: string;
  /** The engine body of the request as the caller asked for it (before any prefill/decode split). */
  payload: Chunk;
  kind: StreamKind;
  instance: ExecutionInstance;
  /** The first chunk, already taken from `rest` (undefined: the stream ended before any). */
  first: Chunk | undefined;
  /** The first leg's chunks after the first one. */
  rest: ChunkSource;
  /** The caller's abort or shutdown: a cut stream then is a cancellation, never moved. */
  cut: Pick<StreamCut, 'aborted' | 'signal'>;
}

/** The chunks after the first one, continued on another instance when a leg fails (a ChunkSource itself). */
export class FailoverStream implements ChunkSource {
  readonly failovers: StreamFailover[] = [];
  raw: string | undefined = undefined;
  private current: ExecutionInstance;
  /** Whether the slot on `current` is still held (a failed leg gives it back at once). */
  private holding = true;
  private upstream: ChunkSource;
  private readonly progress: StreamProgress;
  private readonly tried = new Set<string>();
  private readonly earlier = { promptTokens: 0, completionTokens: 0 };
  private legs = 1;
  private ended = false;
  /** A leg failed and the next one is being started: take() has nothing until it settles. */
  private recovering = false;
  /** What a recovery left to hand out: a final usage chunk, the end, or the failure. */
  private settled: { chunk?: Chunk; end?: boolean; error?: unknown } | undefined;
  private waiter: (() => void) | undefined;
  /** Passed to the leg's source once, rather than a closure per wait. */
  private readonly wake = (): void => {
    const fn = this.waiter;
    this.waiter = undefined;
    fn?.();
  };

  constructor(private readonly o: FailoverStreamOptions) {
    this.current = o.instance;
    this.upstream = o.rest;
    this.tried.add(o.instance.id);
    this.progress = new StreamProgress(o.kind, o.payload);
    if (o.first !== undefined) this.progress.observe(o.first);
  }

  /** The instance serving the stream now. */
  get instance(): ExecutionInstance {
    return this.current;
  }

  /** Whether the stream still holds a slot on `instance` (to be released when it ends). */
  get holdsSlot(): boolean {
    return this.holding;
  }

  take(): Taken {
    for (;;) {
      this.raw = undefined;
      if (this.settled) return this.handOutSettled();
      if (this.ended) return END;
      if (this.recovering) return undefined;
      let n: Taken;
      try {
        n = this.upstream.take();
      } catch (err) {
        this.recover(err);
        continue;
      }
      if (n === undefined || n === END) return n;
      const chunk = this.legs > 1 && this.progress.identity ? rewriteChunk(n, this.o.kind, this.progress.identity, this.earlier) : n;
      if (!chunk) continue;
      if (chunk === n) this.raw = this.upstream.raw;
      this.progress.observe(chunk);
      return chunk;
    }
  }

  whenReady(fn: () => void): void {
    this.waiter = fn;
    if (this.settled || this.ended) this.wake();
    else if (!this.recovering) this.upstream.whenReady(this.wake);
  }

  async close(): Promise<void> {
    this.ended = true;
    await this.upstream.close().catch(() => undefined);
  }

  private handOutSettled(): Taken {
    const s = this.settled as NonNullable<FailoverStream['settled']>;
    if (s.chunk) {
      const chunk = s.chunk;
      s.chunk = undefined;
      return chunk;
    }
    this.settled = undefined;
    this.ended = true;
    if (s.end) return END;
    throw s.error;
  }

  /**
   * A leg failed: what cannot move is rethrown at once; otherwise the next leg is started (take() waits for it)
   * and the stream goes on there, ends cleanly, or ends with the leg's error.
   */
  private recover(err: unknown): void {
    const reason = failoverReason(err);
    const from = this.current.id;
    if (!reason || this.o.cut.aborted) {
      this.ended = true;
      throw err;
    }
    const blocked = this.progress.blocker();
    if (blocked) {
      this.o.ctx.notMoved(this.o.meta.id, from, blocked);
      this.ended = true;
      throw err;
    }
    this.o.ctx.legFailed(this.current, reason);
    this.holding = false;
    if (this.progress.finished) {
      const chunk = this.closeFinished();
      this.settled = { chunk, end: true };
      return;
    }
    this.recovering = true;
    this.nextLeg(err, reason, from).then(
      (moved) => this.recovered(moved ? undefined : { end: false, error: err }),
      (legErr: unknown) => this.recovered({ end: false, error: legErr }),
    );
  }

  private recovered(settled: FailoverStream['settled']): void {
    this.recovering = false;
    this.settled = settled;
    this.wake();
  }

  /** Starts the stream's next leg on another instance; false when none could take it. */
  private async nextLeg(err: unknown, reason: FailoverReason, from: string): Promise<boolean> {
    const tokens = this.progress.tokens;
    const payload = continuationPayload(this.o.payload, this.o.kind, this.progress.generated, tokens);
    while (this.legs < this.o.ctx.maxLegs && !this.o.cut.aborted) {
      const inst = await this.o.ctx.pick(this.o.meta, this.tried);
      if (!inst) break;
      this.tried.add(inst.id);
      this.legs += 1;
      let started: Awaited<ReturnType<EngineExecutor['postStream']>>;
      try {
        started = await this.o.ctx.executor.postStream(inst, this.o.path, payload, { signal: this.o.cut.signal, requestId: upstreamRequestId(this.o.meta) });
      } catch (legErr) {
        // The caller went away meanwhile: no verdict on this engine.
        const gone = this.o.cut.aborted || this.ended;
        this.o.ctx.legFailed(inst, gone ? undefined : failoverReason(legErr));
        if (gone) throw err;
        continue;
      }
      if (this.o.cut.aborted || this.ended) {
        // The stream was closed while the new leg started: nobody will read it, so it goes at once.
        await started.source.close().catch(() => undefined);
        this.o.ctx.legFailed(inst, undefined);
        throw err;
      }
      // Usage of the legs before this one: their prompts (estimated: the original prompt plus what preceded them) and tokens.
      this.earlier.promptTokens += (this.o.meta.promptTokens ?? 0) + this.earlier.completionTokens;
      this.earlier.completionTokens = tokens;
      this.upstream = started.source;
      this.current = inst;
      this.holding = true;
      const event: StreamFailover = { requestId: this.o.meta.id, from, to: inst.id, reason, tokensSoFar: tokens };
      this.failovers.push(event);
      this.o.ctx.moved(event);
      return true;
    }
    this.o.ctx.notMoved(this.o.meta.id, from, 'no other instance could take it');
    return false;
  }

  /** The engine had sent its final chunk and failed before the end: the caller gets the usage it asked for, then the end. */
  private closeFinished(): Chunk | undefined {
    const wantsUsage = (this.o.payload.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    const id = this.progress.identity;
    if (!wantsUsage || this.progress.sawUsage || !id) return undefined;
    const promptTokens = this.earlier.promptTokens + (this.o.meta.promptTokens ?? 0) + this.earlier.completionTokens;
    const completionTokens = this.progress.tokens;
    const object = this.o.kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
    return { id: id.id, object, created: id.created, model: id.model, choices: [], usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens } };
  }
}
