// The server's log lines, gathered for a few milliseconds and handed to each destination (pino's async
// destinations) at once: one chunk and one write per destination per interval instead of one per line (or per
// event-loop turn) and destination. Each write is an fs.write on the thread pool, whose fixed cost (~15-20 µs of CPU,
// whatever its size) would otherwise be paid several times per request under load; a line reaching the file some
// milliseconds later is not noticed by anyone reading it.
// Each line is encoded to UTF-8 as it arrives, into a byte buffer outside the JavaScript heap, and the same bytes go
// to every destination (destinations in buffer mode). Kept as strings until the flush, the lines (pino builds each
// from many small pieces) would be copied by every garbage collection they lived through, then joined into one
// string and encoded; handed a string, each destination would also measure it and encode it again.
// A destination keeps the bytes it is handed (no copy) until it wrote them, so a full buffer cannot simply be
// written over. It is not dropped either: a fresh 256 KiB outside the heap several times a second under load made
// V8 collect its old generation more often (external memory counts towards that). A full buffer waits instead
// until every destination reported its bytes written, and is then used again.

/** Where the gathered lines go, as UTF-8 bytes (a pino destination in buffer mode, or a formatter in front of one). */
export interface LineSink {
  write(chunk: Buffer): unknown;
  /**
   * How the batch learns that it may write over bytes it handed on: the sink reports the bytes it is done with,
   * in the order it was handed them (sonic-boom's 'write' event, the bytes of each fs.write done; the batch must
   * be the sink's only writer). A sink with neither this nor `copies` is taken to keep what it is handed for
   * good, and that memory is never used again.
   */
  on?(event: 'write', listener: (bytes: number) => void): unknown;
  /** The sink is done with a chunk when write() returns (it copies or transforms it). */
  readonly copies?: boolean;
}

/** Full buffers kept to be used again once written (the oldest is dropped to the garbage collector beyond). */
const MAX_SPARE = 3;

export interface LineBatchOptions {
  /** The longest a line waits before it is handed on (default 25 ms). */
  maxDelayMs?: number;
  /** Bytes gathered after which the lines go at once, whatever the delay (default 256 KiB). */
  maxBytes?: number;
}

export class LineBatch {
  /** The buffer the lines are encoded into; the bytes before `start` were handed on (not written over until written). */
  private buf: Buffer;
  private start = 0;
  private end = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly maxDelayMs: number;
  private readonly maxBytes: number;
  /** Bytes handed on so far (the same to every sink). */
  private handed = 0;
  /** Per sink that reports, the bytes it reported done with; undefined if a sink keeps its chunks for good. */
  private readonly done: number[] | undefined;
  /** Full buffers, oldest first, with the bytes handed on when each was left: reusable once every sink is past. */
  private readonly spares: Array<{ buf: Buffer; handed: number }> = [];

  constructor(
    private readonly sinks: readonly LineSink[],
    opts: LineBatchOptions = {},
  ) {
    this.maxDelayMs = opts.maxDelayMs ?? 25;
    this.maxBytes = opts.maxBytes ?? 256 * 1024;
    this.buf = Buffer.allocUnsafeSlow(this.maxBytes);
    const done: number[] = [];
    for (const s of sinks) {
      if (s.copies) continue;
      if (typeof s.on !== 'function') return; // a sink that keeps its chunks: nothing is ever reused
      const i = done.push(0) - 1;
      s.on('write', (bytes) => {
        done[i] += bytes;
      });
    }
    this.done = done;
  }

  /** pino's stream interface: one serialized line (with its newline). */
  write(line: string): boolean {
    // A UTF-16 unit takes at most 3 bytes: the exact size is measured only when the line may not fit.
    if (this.buf.length - this.end < line.length * 3 && this.buf.length - this.end < Buffer.byteLength(line, 'utf8')) {
      // The buffer is full: what it gathered goes now, and the line starts another.
      this.flush();
      this.nextBuffer(Buffer.byteLength(line, 'utf8'));
    }
    this.end += this.buf.write(line, this.end, 'utf8');
    if (this.end - this.start >= this.maxBytes) this.flush();
    else if (this.timer === undefined) {
      this.timer = setTimeout(this.flush, this.maxDelayMs);
      // Lines waiting must not keep the process alive: whoever ends it calls flush() (and 'exit' does).
      this.timer.unref();
    }
    return true;
  }

  /** Hands what was gathered to every sink (also before exit, so no line is left behind); false if there was none. */
  readonly flush = (): boolean => {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.end === this.start) return false;
    const chunk = this.buf.subarray(this.start, this.end);
    this.start = this.end;
    this.handed += chunk.length;
    // Shared: destinations only read what they are handed, and these bytes are not written again.
    for (const s of this.sinks) s.write(chunk);
    return true;
  };

  /**
   * Another buffer, for at least `bytes`: a full one every sink has written, else a fresh one. The bytes handed on
   * stay where they are until written.
   */
  private nextBuffer(bytes: number): void {
    const next = (bytes <= this.maxBytes && this.spare()) || Buffer.allocUnsafeSlow(Math.max(this.maxBytes, bytes));
    // One grown for a long line is left to the garbage collector rather than kept.
    if (this.done && this.buf.length === this.maxBytes) {
      this.spares.push({ buf: this.buf, handed: this.handed });
      if (this.spares.length > MAX_SPARE) this.spares.shift();
    }
    this.buf = next;
    this.start = 0;
    this.end = 0;
  }

  /** The oldest full buffer whose bytes every sink reported written, taken out of the spares; else undefined. */
  private spare(): Buffer | undefined {
    const oldest = this.spares[0];
    if (!oldest || !this.done) return undefined;
    for (const d of this.done) if (d < oldest.handed) return undefined;
    this.spares.shift();
    return oldest.buf;
  }
}
