// The chunks of an engine's streamed answer, read from undici's body as it arrives ('data' events, no async
// iterator): each piece's events are queued as text and parsed when taken, so a failure comes in order after the
// chunks before it. While the consumer holds back (a slow client), the body is paused rather than buffered here.
// The stream's clocks (stream-timeouts.ts) run only while the consumer waits for a chunk the engine owes.
import type { Readable } from 'node:stream';
import { END, type Chunk, type ChunkSource, type Taken } from './chunk-source';
import { SseDataParser } from './sse';
import type { StreamTimeouts } from './stream-timeouts';

export interface SseChunkHooks {
  /** One event's payload as a chunk, or the engine failure it reports (thrown); `first`: no chunk was taken yet. */
  decode(data: string, first: boolean): Chunk;
  /** A failure of the body as the stream's error. */
  classify(err: unknown, first: boolean): unknown;
  /** The first chunk was taken: the call is answered. */
  answered(): void;
}

function ignore(): void {}

/** Whether `text` fits on one `data:` line as it is. */
function oneLine(text: string): boolean {
  return text.indexOf('\n') < 0 && text.indexOf('\r') < 0;
}

export class SseChunkSource implements ChunkSource {
  raw: string | undefined = undefined;
  private readonly parser = new SseDataParser();
  /** Event payloads received and not yet taken, from `head` on. */
  private queue: string[] = [];
  private head = 0;
  private first = true;
  /** The body ended (or [DONE] came): nothing more will be queued. */
  private ended = false;
  /** Delivered: END or the failure was handed out, or the consumer closed the stream. */
  private over = false;
  private failure: unknown = undefined;
  private failed = false;
  private paused = false;
  private waiter: (() => void) | undefined = undefined;

  constructor(
    private readonly body: Readable,
    private readonly timeouts: StreamTimeouts,
    private readonly hooks: SseChunkHooks,
  ) {
    // The first piece came with the headers as a rule: it is queued at once, so the first chunk is in hand now.
    const head = body.destroyed ? null : (body.read() as Buffer | null);
    if (head !== null) this.received(head);
    body.on('data', (piece: Buffer) => this.onPiece(piece));
    body.on('end', () => this.onEnd());
    body.on('error', (err: unknown) => this.onError(err));
  }

  take(): Taken {
    if (this.head < this.queue.length) {
      const data = this.queue[this.head] as string;
      this.queue[this.head++] = '';
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
        if (this.paused && !this.ended) {
          this.paused = false;
          this.body.resume();
        }
      }
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
      // The body ends by itself (or is let go after [DONE], see done()).
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

  private wake(): void {
    const fn = this.waiter;
    this.waiter = undefined;
    fn?.();
  }

  private received(piece: Buffer): void {
    for (const data of this.parser.push(piece)) this.queue.push(data);
    if (this.parser.done) this.done();
  }

  private onPiece(piece: Buffer): void {
    if (this.ended || this.over) return;
    this.received(piece);
    if (this.head < this.queue.length || this.ended) this.wake();
    // Not taken at once: the consumer holds back, so the engine is held back too.
    if (this.head < this.queue.length && !this.ended && !this.over && !this.paused) {
      this.paused = true;
      this.body.pause();
    }
  }

  /** [DONE] came: the answer is over. */
  private done(): void {
    this.ended = true;
    // An engine ends its body with [DONE] as a rule, and reading on to that end keeps the connection for reuse;
    // one whose end is not in by the time this piece is handled is let go (its connection is not reused).
    process.nextTick(() => {
      if (!this.bodyEnded()) this.destroyBody();
    });
  }

  private onEnd(): void {
    if (this.ended || this.over) return;
    this.ended = true;
    // A stream cut without the trailing blank line still delivers its last event.
    const last = this.parser.end();
    if (last !== undefined) this.queue.push(last);
    this.wake();
  }

  private onError(err: unknown): void {
    if (this.ended || this.over || this.failed) return;
    this.failed = true;
    this.failure = this.hooks.classify(err, this.first);
    this.wake();
  }

  /** The stream is over for its consumer: no clock runs again and the connection is released. */
  private release(): void {
    this.timeouts.stop();
    this.queue.length = 0;
    this.head = 0;
    // A paused body that has all its data would never end (and close, which ends the call) otherwise.
    if (this.paused) {
      this.paused = false;
      this.body.resume();
    }
    this.destroyBody();
  }

  /** Everything the engine sent is in (its end may not have been emitted yet). */
  private bodyEnded(): boolean {
    return (this.body as unknown as { _readableState?: { ended?: boolean } })._readableState?.ended === true;
  }

  private destroyBody(): void {
    // The consumer stopped early (or the stream failed): release the connection instead of reading to the end. The
    // abort error this gives the body is ours. Destroyed on the next microtask, not inside undici's own delivery.
    if (this.body.destroyed || this.bodyEnded()) return;
    queueMicrotask(() => {
      if (!this.body.destroyed && !this.bodyEnded()) this.body.on('error', ignore).destroy();
    });
  }
}
