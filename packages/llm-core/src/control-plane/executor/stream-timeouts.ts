// The two clocks of a streamed call: the request timeout until the first chunk (time to first token), then
// an idle timeout that runs only while the engine owes the next chunk — never over the total length, and
// never while the consumer holds a chunk. Either one running out expires the call (a TimeoutError abort).
// The idle clock is one timer re-armed with refresh() for each chunk, not a new timer per chunk.

/** What the clocks act on: the call they bound. */
export interface ExpiringCall {
  readonly aborted: boolean;
  /** Aborts the call with a TimeoutError saying `why`. */
  expire(why: string): void;
}

export class StreamTimeouts {
  private first?: NodeJS.Timeout;
  private idle?: NodeJS.Timeout;
  /** The engine owes a chunk (the idle clock counts); false while the consumer holds one. */
  private owed = false;
  private stopped = false;

  constructor(
    firstChunkMs: number,
    private readonly idleMs: number,
    private readonly call: ExpiringCall,
  ) {
    this.first = setTimeout(() => this.fire(`no first chunk within ${firstChunkMs} ms`), firstChunkMs);
    // A timer must not keep the process alive on its own; stop() clears it on every path anyway.
    this.first.unref();
  }

  /** A chunk arrived: the clock stops (the first-chunk bound is then over for good). */
  pause(): void {
    this.owed = false;
    if (this.first) clearTimeout(this.first);
    this.first = undefined;
  }

  /** The next chunk is awaited: the idle clock starts (0 = no idle bound). */
  awaitNext(): void {
    if (this.idleMs <= 0 || this.stopped || this.call.aborted) return;
    this.owed = true;
    if (this.idle) {
      this.idle.refresh();
      return;
    }
    this.idle = setTimeout(() => {
      if (this.owed) this.fire(`no chunk for ${this.idleMs} ms`);
    }, this.idleMs);
    this.idle.unref();
  }

  /** The stream is over: no clock runs again. */
  stop(): void {
    this.stopped = true;
    this.owed = false;
    if (this.first) clearTimeout(this.first);
    if (this.idle) clearTimeout(this.idle);
    this.first = undefined;
    this.idle = undefined;
  }

  private fire(why: string): void {
    if (this.stopped || this.call.aborted) return;
    this.call.expire(`stream timed out: ${why}`);
  }
}
