// One streamed call to an engine: the handler undici dispatches to, the call's abort (the caller's signal, its
// clocks, a cut by the executor) and the source of its chunks (chunk-source.ts). It goes through undici's dispatch
// API rather than `request()`, which per call makes an async resource, a parsed header object and a Readable body
// whose every piece goes through the stream's buffer and a tick before a reader sees it: here each piece's events
// are queued as text in the call that received them (parsed when taken, so a failure comes in order after the
// chunks before it) and announced to the consumer at once. While the consumer holds back (a slow client), undici
// stops reading the engine's socket. The clocks (stream-timeouts.ts) run only while the engine owes a chunk.
import type { Dispatcher } from 'undici';
import { errors } from 'undici';
import { END, iterateChunks, type Chunk, type ChunkSource, type Taken } from './chunk-source';
import { SseDataParser } from './sse';
import { StreamTimeouts } from './stream-timeouts';
import { CallAbort } from './upstream-call';

export interface StreamCallHooks {
  /** One event's payload as a chunk, or the engine failure it reports (thrown); `first`: no chunk was taken yet. */
  decode(data: string, first: boolean): Chunk;
  /** A failure of the call as the error its caller sees; `first`: nothing was handed on yet. */
  classify(err: unknown, first: boolean): unknown;
  /** A non-2xx answer (its body read whole) as the error its caller sees. */
  statusError(status: number, text: string): unknown;
  /** The call is answered (first chunk taken) or over: it leaves the executor's waiting set. */
  answered(): void;
}

/**
 * Characters of events not taken yet past which the engine is held back (a Readable's 64 KiB, as before): a consumer
 * that is merely busy for a moment (the first chunk, taken once the call's caller resumes) does not stop undici's
 * reading, and a client that is really behind does.
 */
const HOLD_AT = 64 * 1024;

/** Whether `text` fits on one `data:` line as it is. */
function oneLine(text: string): boolean {
  return text.indexOf('\n') < 0 && text.indexOf('\r') < 0;
}

export class StreamCall extends CallAbort implements Dispatcher.DispatchHandler, ChunkSource {
  raw: string | undefined = undefined;
  private iterator: AsyncIterableIterator<Chunk> | undefined = undefined;
  readonly timeouts: StreamTimeouts;
  /** The answer's status, once its headers are in. */
  status = 0;
  private parser: SseDataParser | undefined = undefined;
  /** The body of a non-2xx answer, read whole for its error. */
  private errorBody: Buffer[] | undefined = undefined;
  /** Event payloads received and not yet taken, from `head` on. */
  private queue: string[] = [];
  private head = 0;
  private first = true;
  /** The answer is complete, or [DONE] came: nothing more will be queued. */
  private ended = false;
  /** END or the failure was handed out, or the consumer closed the stream. */
  private over = false;
  private failure: unknown = undefined;
  private failed = false;
  private finished = false;
  /** undici's delivery is inside onData: an abort waits until it returned. */
  private delivering = false;
  /** Characters of the events queued and not taken yet. */
  private queued = 0;
  /** undici was told to stop reading (the consumer is behind by more than HOLD_AT). */
  private held = false;
  private waiter: (() => void) | undefined = undefined;
  private abortUndici: ((err?: Error) => void) | undefined = undefined;
  private resumeUndici: (() => void) | undefined = undefined;
  private started: ((call: StreamCall) => void) | undefined = undefined;
  private refused: ((err: unknown) => void) | undefined = undefined;

  constructor(
    caller: AbortSignal | undefined,
    firstChunkMs: number,
    idleMs: number,
    private readonly hooks: StreamCallHooks,
  ) {
    super(caller);
    this.timeouts = new StreamTimeouts(firstChunkMs, idleMs, this);
    this.follow();
  }

  /** Sends the request; settles once a 2xx answer's headers are in (with this call as its chunks' source), or with why it failed. */
  send(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions): Promise<StreamCall> {
    return new Promise<StreamCall>((resolve, reject) => {
      this.started = resolve;
      this.refused = reject;
      dispatcher.dispatch(options, this);
    });
  }

  // ---------------------------------------------------------------- the started stream (StreamResult)

  get source(): ChunkSource {
    return this;
  }

  /** The chunks for a consumer that iterates (made on first use). */
  get chunks(): AsyncIterable<Chunk> {
    return (this.iterator ??= iterateChunks(this));
  }

  // ---------------------------------------------------------------- the consumer's side (ChunkSource)

  take(): Taken {
    if (this.head < this.queue.length) {
      const data = this.queue[this.head] as string;
      this.queue[this.head++] = '';
      this.queued -= data.length;
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
        this.queued = 0;
      }
      if (this.held && this.queued < HOLD_AT) this.resume();
      // The clock stops while the consumer holds the chunk (a slow reader is not an idle engine).
      this.timeouts.pause();
      const first = this.first;
      let chunk: Chunk;
      try {
        chunk = this.hooks.decode(data, first);
      } catch (err) {
        this.over = true;
        this.release();
        throw err;
      }
      if (first) {
        this.first = false;
        this.hooks.answered();
      }
      this.raw = oneLine(data) ? data : undefined;
      return chunk;
    }
    this.raw = undefined;
    if (this.over) return END;
    if (this.failed) {
      this.over = true;
      this.release();
      throw this.failure;
    }
    if (this.ended) {
      this.over = true;
      this.timeouts.stop();
      return END;
    }
    // The consumer asks for more: from here on the engine owes the next chunk within the idle timeout.
    this.timeouts.awaitNext();
    return undefined;
  }

  whenReady(fn: () => void): void {
    this.waiter = fn;
    if (this.head < this.queue.length || this.failed || this.ended || this.over) this.wake();
  }

  close(): Promise<void> {
    if (!this.over) {
      this.over = true;
      this.release();
    }
    return Promise.resolve();
  }

  /** undici reads on (never from inside its own delivery). */
  private resume(): void {
    this.held = false;
    if (this.delivering) queueMicrotask(() => this.resumeUndici?.());
    else this.resumeUndici?.();
  }

  private wake(): void {
    const fn = this.waiter;
    this.waiter = undefined;
    fn?.();
  }

  /** The stream is over for its consumer: no clock runs again, and an answer still coming is cut (its connection let go). */
  private release(): void {
    this.timeouts.stop();
    this.queue.length = 0;
    this.head = 0;
    this.queued = 0;
    if (!this.finished) this.cut();
  }

  /** Aborts the answer still coming, outside undici's own delivery. */
  private cut(): void {
    if (this.delivering) queueMicrotask(() => this.abort(new errors.RequestAbortedError()));
    else this.abort(new errors.RequestAbortedError());
  }

  /** The call is over: no timer or listener outlives it. */
  private done(): void {
    if (this.finished) return;
    this.finished = true;
    this.abortUndici = undefined;
    this.resumeUndici = undefined;
    this.timeouts.stop();
    this.end();
    this.hooks.answered();
  }

  // ---------------------------------------------------------------- the call's abort

  protected aborting(): void {
    // Before undici wrote the request (queued for a connection) it has no abort to call yet: onConnect does it.
    const abort = this.abortUndici;
    this.abortUndici = undefined;
    abort?.(this.abortError());
  }

  private abortError(): Error {
    return (this.reason ?? new errors.RequestAbortedError()) as Error;
  }

  // ---------------------------------------------------------------- undici's handler

  onConnect(abort: (err?: Error) => void): void {
    if (this.aborted) abort(this.abortError());
    else this.abortUndici = abort;
  }

  onHeaders(statusCode: number, _headers: unknown, resume: () => void): boolean {
    // 1xx informational answers come before the real one.
    if (statusCode < 200) return true;
    this.status = statusCode;
    this.resumeUndici = resume;
    if (statusCode >= 300) {
      this.errorBody = [];
      return true;
    }
    this.parser = new SseDataParser();
    const started = this.started;
    this.started = this.refused = undefined;
    started?.(this);
    return true;
  }

  onData(piece: Buffer): boolean {
    if (this.errorBody) {
      this.errorBody.push(piece);
      return true;
    }
    if (this.ended || this.over || !this.parser) return true;
    for (const data of this.parser.push(piece)) {
      this.queue.push(data);
      this.queued += data.length;
    }
    if (this.parser.done) this.ended = true;
    if (this.head < this.queue.length || this.ended) {
      this.delivering = true;
      try {
        this.wake();
      } finally {
        this.delivering = false;
      }
    }
    if (this.ended) {
      // [DONE]: the answer is over. An engine ends its body with it as a rule (its end is then read, keeping the
      // connection); one whose end is not in once this piece is handled is let go.
      queueMicrotask(() => {
        if (!this.finished) this.cut();
      });
      return true;
    }
    // Not taken at once, and far behind: the consumer holds back, so the engine is held back too.
    if (this.queued >= HOLD_AT && !this.over) this.held = true;
    return !this.held;
  }

  onComplete(): void {
    if (this.errorBody) {
      const text = this.errorBody.length === 0 ? '' : Buffer.concat(this.errorBody).toString('utf8');
      this.done();
      this.refuse(this.hooks.statusError(this.status, text));
      return;
    }
    this.done();
    if (this.ended || this.over) return;
    this.ended = true;
    // A stream cut without the trailing blank line still delivers its last event.
    const last = this.parser?.end();
    if (last !== undefined) this.queue.push(last);
    this.wake();
  }

  onError(err: Error): void {
    this.done();
    if (this.refused) {
      // An error answer whose body broke off is still that answer, its body unread.
      if (this.errorBody) this.refuse(this.hooks.statusError(this.status, ''));
      else this.refuse(this.hooks.classify(err, true));
      return;
    }
    if (this.ended || this.over || this.failed) return;
    this.failed = true;
    this.failure = this.hooks.classify(err, this.first);
    this.wake();
  }

  private refuse(err: unknown): void {
    const refused = this.refused;
    this.started = this.refused = undefined;
    refused?.(err);
  }
}
