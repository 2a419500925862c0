// The server's log lines, gathered for a few milliseconds and handed to each destination (pino's async
// destinations) at once: one string and one write per destination per interval instead of one per line (or per
// event-loop turn) and destination. Each write is an fs.write on the thread pool, whose fixed cost (~15-20 µs of CPU,
// whatever its size) would otherwise be paid several times per request under load; a line reaching the file some
// milliseconds later is not noticed by anyone reading it.
// The joined lines are encoded to bytes once and the same bytes go to every destination (destinations in buffer
// mode): handed a string, each destination would measure it, have fs.write encode it, and encode it again once
// written, for every destination.

/** Where the joined lines go, as UTF-8 bytes (a pino destination in buffer mode, or a formatter in front of one). */
export interface LineSink {
  write(chunk: Buffer): unknown;
}

export interface LineBatchOptions {
  /** The longest a line waits before it is handed on (default 25 ms). */
  maxDelayMs?: number;
  /** Characters gathered after which the lines go at once, whatever the delay (default 256 KiB). */
  maxChars?: number;
}

export class LineBatch {
  private lines: string[] = [];
  private chars = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly maxDelayMs: number;
  private readonly maxChars: number;

  constructor(
    private readonly sinks: readonly LineSink[],
    opts: LineBatchOptions = {},
  ) {
    this.maxDelayMs = opts.maxDelayMs ?? 25;
    this.maxChars = opts.maxChars ?? 256 * 1024;
  }

  /** pino's stream interface: one serialized line (with its newline). */
  write(line: string): boolean {
    this.lines.push(line);
    this.chars += line.length;
    if (this.chars >= this.maxChars) this.flush();
    else if (this.timer === undefined) {
      this.timer = setTimeout(this.flush, this.maxDelayMs);
      // Lines waiting must not keep the process alive: whoever ends it calls flush() (and 'exit' does).
      this.timer.unref();
    }
    return true;
  }

  /** Hands what was gathered to every sink (also before exit, so no line is left behind). */
  readonly flush = (): void => {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.lines.length === 0) return;
    const chunk = Buffer.from(this.lines.length === 1 ? this.lines[0]! : this.lines.join(''), 'utf8');
    this.lines = [];
    this.chars = 0;
    // Shared: destinations only read what they are handed.
    for (const s of this.sinks) s.write(chunk);
  };
}
