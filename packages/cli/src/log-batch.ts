// The server's log lines, gathered for a few milliseconds and handed to each destination (pino's async
// destinations) at once: one chunk and one write per destination per interval instead of one per line (or per
// event-loop turn) and destination. Each write is an fs.write on the thread pool, whose fixed cost (~15-20 µs of CPU,
// whatever its size) would otherwise be paid several times per request under load; a line reaching the file some
// milliseconds later is not noticed by anyone reading it.
// Each line is encoded to UTF-8 as it arrives, into a byte buffer outside the JavaScript heap, and the same bytes go
// to every destination (destinations in buffer mode). Kept as strings until the flush, the lines (pino builds each
// from many small pieces) would be copied by every garbage collection they lived through, then joined into one
// string and encoded; handed a string, each destination would also measure it and encode it again.

/** Where the gathered lines go, as UTF-8 bytes (a pino destination in buffer mode, or a formatter in front of one). */
export interface LineSink {
  write(chunk: Buffer): unknown;
}

export interface LineBatchOptions {
  /** The longest a line waits before it is handed on (default 25 ms). */
  maxDelayMs?: number;
  /** Bytes gathered after which the lines go at once, whatever the delay (default 256 KiB). */
  maxBytes?: number;
}

export class LineBatch {
  /** The buffer the lines are encoded into; the bytes before `start` were handed on and are never written again. */
  private buf: Buffer;
  private start = 0;
  private end = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly maxDelayMs: number;
  private readonly maxBytes: number;

  constructor(
    private readonly sinks: readonly LineSink[],
    opts: LineBatchOptions = {},
  ) {
    this.maxDelayMs = opts.maxDelayMs ?? 25;
    this.maxBytes = opts.maxBytes ?? 256 * 1024;
    this.buf = Buffer.allocUnsafeSlow(this.maxBytes);
  }

  /** pino's stream interface: one serialized line (with its newline). */
  write(line: string): boolean {
    // A UTF-16 unit takes at most 3 bytes: the exact size is measured only when the line may not fit.
    if (this.buf.length - this.end < line.length * 3 && this.buf.length - this.end < Buffer.byteLength(line, 'utf8')) this.makeRoom(line);
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
    // Shared: destinations only read what they are handed, and these bytes are not written again.
    for (const s of this.sinks) s.write(chunk);
    return true;
  };

  /** A fresh buffer for `line` and what is gathered (handed on bytes stay with the destinations that hold them). */
  private makeRoom(line: string): void {
    const pending = this.buf.subarray(this.start, this.end);
    const next = Buffer.allocUnsafeSlow(Math.max(this.maxBytes, pending.length + Buffer.byteLength(line, 'utf8')));
    pending.copy(next, 0);
    this.buf = next;
    this.start = 0;
    this.end = pending.length;
  }
}
