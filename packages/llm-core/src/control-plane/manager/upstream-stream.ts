// The caller's view of an engine stream whose first chunk is already in hand: it counts completion tokens,
// reports exactly one end (completed, failed, or cancelled — by the caller's abort, shutdown, or a consumer
// that stopped reading) and closes the upstream whenever the caller stops early.
import type { SchedulingDecision } from '../types';
import { RequestCancelledError } from './errors';
import { END, iterateChunks, sourceOfIterable, type Chunk, type ChunkSource, type Taken } from '../executor';
import type { InferenceStream } from './request';
import type { StreamFailover } from './stream-failover';
import type { StreamCut } from './stream-cut';

export interface StreamEnd {
  /** Undefined when the engine finished the stream. */
  error?: unknown;
  /** Cut by an abort or a consumer that stopped reading — no verdict on the engine. */
  cancelled: boolean;
  completionTokens: number;
  /** From the engine's usage chunk, when it sent one. */
  promptTokens?: number;
  /** The last finish_reason the engine gave. */
  finishReason?: string;
}

export interface UpstreamStreamOptions {
  requestId: string;
  instanceId: string;
  prefillInstanceId?: string;
  decision: SchedulingDecision;
  /** The first chunk (undefined: the stream ended before any) and its engine text (see ChunkSource.raw). */
  first: Chunk | undefined;
  firstRaw: string | undefined;
  rest: ChunkSource;
  /** The caller's abort or shutdown. */
  cut: Pick<StreamCut, 'aborted' | 'whenCut'>;
  shutdown: AbortSignal;
  /** Moves of the stream to other instances, as they happen. */
  failovers?: readonly StreamFailover[];
  onEnd: (end: StreamEnd) => void;
}

/** The chunks of a stream as a ChunkSource: a relay takes those of submitStream's streams without iterating. */
export function chunkSourceOf(stream: InferenceStream): ChunkSource {
  return stream instanceof CallerStream ? stream : sourceOfIterable(stream);
}

/** The stream the caller reads: a chunk source counting tokens and reporting one end. */
class CallerStream implements ChunkSource, InferenceStream {
  readonly requestId: string;
  readonly instanceId: string;
  readonly prefillInstanceId: string | undefined;
  readonly decision: SchedulingDecision;
  readonly failovers: readonly StreamFailover[] | undefined;
  raw: string | undefined = undefined;
  private first: Chunk | undefined;
  private firstRaw: string | undefined;
  private readonly rest: ChunkSource;
  private finished = false;
  /** END or the failure was handed out: nothing more comes. */
  private over = false;
  private completionTokens = 0;
  private promptTokens: number | undefined;
  private finishReason: string | undefined;
  private abortError: RequestCancelledError | undefined;
  private waiter: (() => void) | undefined;
  private iterator: AsyncIterableIterator<Chunk> | undefined;
  private readonly wake = (): void => {
    const fn = this.waiter;
    this.waiter = undefined;
    fn?.();
  };

  constructor(private readonly o: UpstreamStreamOptions) {
    this.requestId = o.requestId;
    this.instanceId = o.instanceId;
    this.prefillInstanceId = o.prefillInstanceId;
    this.decision = o.decision;
    this.failovers = o.failovers;
    this.first = o.first;
    this.firstRaw = o.firstRaw;
    this.rest = o.rest;
    // The caller (or shutdown) may abort while nobody reads — e.g. between submitStream and the first take():
    // nothing would ever notice the cut upstream, so the slot is freed and the upstream closed here.
    o.cut.whenCut(() => this.onAbort());
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Chunk> {
    return (this.iterator ??= iterateChunks(this));
  }

  take(): Taken {
    this.raw = undefined;
    if (this.over) return END;
    if (this.abortError) {
      this.over = true;
      throw this.abortError;
    }
    const first = this.first;
    if (first !== undefined) {
      this.first = undefined;
      this.raw = this.firstRaw;
      this.firstRaw = undefined;
      this.count(first);
      return first;
    }
    let n: Taken;
    try {
      n = this.rest.take();
    } catch (err) {
      this.over = true;
      this.finish(err);
      throw this.abortError ?? err;
    }
    if (n === undefined) return undefined;
    if (n === END) {
      this.over = true;
      if (this.abortError) throw this.abortError;
      this.finish();
      return END;
    }
    this.raw = this.rest.raw;
    this.count(n);
    return n;
  }

  whenReady(fn: () => void): void {
    this.waiter = fn;
    if (this.over || this.abortError || this.first !== undefined) this.wake();
    else this.rest.whenReady(this.wake);
  }

  /** The consumer stopped reading: a cancellation, not an engine failure; the upstream is closed and the slot freed. */
  async close(): Promise<void> {
    this.over = true;
    if (this.finished) return;
    await this.closeUpstream();
    this.finish(new RequestCancelledError(this.requestId, 'stream consumer stopped'), true);
  }

  private closeUpstream(): Promise<void> {
    return this.rest.close().catch(() => undefined);
  }

  private onAbort(): void {
    if (this.finished) return;
    this.abortError = new RequestCancelledError(this.requestId, this.o.shutdown.aborted ? 'control plane is shutting down' : 'request cancelled');
    void this.closeUpstream();
    this.finish(this.abortError);
    this.wake();
  }

  /** `consumerGone`: the consumer stopped reading — a cancellation, not an engine failure. */
  private finish(err?: unknown, consumerGone = false): void {
    if (this.finished) return;
    this.finished = true;
    const { completionTokens, promptTokens, finishReason } = this;
    this.o.onEnd(err === undefined ? { cancelled: false, completionTokens, promptTokens, finishReason } : { error: err, cancelled: consumerGone || this.o.cut.aborted, completionTokens, promptTokens });
  }

  private count(chunk: Chunk): void {
    const usage = chunk.usage as { completion_tokens?: number; prompt_tokens?: number } | undefined | null;
    if (usage?.completion_tokens !== undefined) {
      this.completionTokens = usage.completion_tokens;
      this.promptTokens = usage.prompt_tokens;
    } else if (Array.isArray(chunk.choices) && chunk.choices.length > 0) this.completionTokens += 1;
    const reason = Array.isArray(chunk.choices) ? (chunk.choices[0] as { finish_reason?: unknown } | undefined)?.finish_reason : undefined;
    if (typeof reason === 'string') this.finishReason = reason;
  }
}

export function wrapUpstreamStream(o: UpstreamStreamOptions): InferenceStream {
  return new CallerStream(o);
}
