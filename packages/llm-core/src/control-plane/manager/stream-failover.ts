// Mid-stream failover: the chunks of a started stream, continued on another instance when its engine fails after
// the first chunk (connection lost, idle timeout, error event). The caller sees one stream; each later leg is a
// continuation request (stream-continuation.ts). A stream that cannot move (n > 1, tool calls, no other instance,
// the caller gone) ends with the leg's error, as it always did.
import type { EngineExecutor } from '../executor';
import type { ExecutionInstance, RequestMetadata } from '../types';
import { upstreamRequestId } from './upstream-request-id';
import type { StreamCut } from './stream-cut';
import { continuationPayload, failoverReason, rewriteChunk, StreamProgress, type FailoverReason, type StreamKind } from './stream-continuation';

type Chunk = Record<string, unknown>;

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
  first: IteratorResult<Chunk>;
  rest: AsyncIterator<Chunk>;
  /** The caller's abort or shutdown: a cut stream then is a cancellation, never moved. */
  cut: Pick<StreamCut, 'aborted' | 'signal'>;
}

export class FailoverStream {
  readonly failovers: StreamFailover[] = [];
  private current: ExecutionInstance;
  /** Whether the slot on `current` is still held (a failed leg gives it back at once). */
  private holding = true;
  private upstream: AsyncIterator<Chunk>;
  private readonly progress: StreamProgress;
  private readonly tried = new Set<string>();
  private readonly earlier = { promptTokens: 0, completionTokens: 0 };
  private legs = 1;
  private ended = false;

  constructor(private readonly o: FailoverStreamOptions) {
    this.current = o.instance;
    this.upstream = o.rest;
    this.tried.add(o.instance.id);
    this.progress = new StreamProgress(o.kind, o.payload);
    if (!o.first.done) this.progress.observe(o.first.value);
  }

  /** The instance serving the stream now. */
  get instance(): ExecutionInstance {
    return this.current;
  }

  /** Whether the stream still holds a slot on `instance` (to be released when it ends). */
  get holdsSlot(): boolean {
    return this.holding;
  }

  /** The chunks after the first one. */
  readonly rest: AsyncIterator<Chunk> = {
    next: () => this.next(),
    return: async (value?: unknown) => {
      this.ended = true;
      await Promise.resolve(this.upstream.return?.(undefined)).catch(() => undefined);
      return { done: true, value: value as Chunk };
    },
  };

  private async next(): Promise<IteratorResult<Chunk>> {
    for (;;) {
      if (this.ended) return { done: true, value: undefined };
      let n: IteratorResult<Chunk>;
      try {
        n = await this.upstream.next();
      } catch (err) {
        const end = await this.recover(err);
        if (end) return end;
        continue;
      }
      if (n.done) return n;
      const chunk = this.legs > 1 && this.progress.identity ? rewriteChunk(n.value, this.o.kind, this.progress.identity, this.earlier) : n.value;
      if (!chunk) continue;
      this.progress.observe(chunk);
      return { done: false, value: chunk };
    }
  }

  /** A leg failed: continue on another instance (undefined), end the stream cleanly (a result), or rethrow. */
  private async recover(err: unknown): Promise<IteratorResult<Chunk> | undefined> {
    const reason = failoverReason(err);
    const from = this.current.id;
    if (!reason || this.o.cut.aborted) throw err;
    const blocked = this.progress.blocker();
    if (blocked) {
      this.o.ctx.notMoved(this.o.meta.id, from, blocked);
      throw err;
    }
    this.o.ctx.legFailed(this.current, reason);
    this.holding = false;
    if (this.progress.finished) return this.closeFinished();
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
        await Promise.resolve(started.chunks[Symbol.asyncIterator]().return?.(undefined)).catch(() => undefined);
        this.o.ctx.legFailed(inst, undefined);
        throw err;
      }
      // Usage of the legs before this one: their prompts (estimated: the original prompt plus what preceded them) and tokens.
      this.earlier.promptTokens += (this.o.meta.promptTokens ?? 0) + this.earlier.completionTokens;
      this.earlier.completionTokens = tokens;
      this.upstream = started.chunks[Symbol.asyncIterator]();
      this.current = inst;
      this.holding = true;
      const event: StreamFailover = { requestId: this.o.meta.id, from, to: inst.id, reason, tokensSoFar: tokens };
      this.failovers.push(event);
      this.o.ctx.moved(event);
      return undefined;
    }
    this.o.ctx.notMoved(this.o.meta.id, from, 'no other instance could take it');
    throw err;
  }

  /** The engine had sent its final chunk and failed before the end: the caller gets the usage it asked for, then the end. */
  private closeFinished(): IteratorResult<Chunk> {
    this.ended = true;
    const wantsUsage = (this.o.payload.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    const id = this.progress.identity;
    if (!wantsUsage || this.progress.sawUsage || !id) return { done: true, value: undefined };
    const promptTokens = this.earlier.promptTokens + (this.o.meta.promptTokens ?? 0) + this.earlier.completionTokens;
    const completionTokens = this.progress.tokens;
    const object = this.o.kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
    return { done: false, value: { id: id.id, object, created: id.created, model: id.model, choices: [], usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens } } };
  }
}
