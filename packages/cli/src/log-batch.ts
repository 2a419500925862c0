// The server's log lines of one turn of the event loop, joined and handed to each destination (pino's async
// destinations) at once: one string and one write per destination per turn instead of one per line and
// destination. Under load a request ends every few microseconds, and each line handed to a destination on its own
// costs a copy of everything it still holds and, often, a write on the thread pool.

/** Where the joined lines go (a pino destination, or a formatter in front of one). */
export interface LineSink {
  write(chunk: string): unknown;
}

export class LineBatch {
  private lines: string[] = [];
  private scheduled = false;

  constructor(private readonly sinks: readonly LineSink[]) {}

  /** pino's stream interface: one serialized line (with its newline). */
  write(line: string): boolean {
    this.lines.push(line);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
    return true;
  }

  /** Hands what this turn logged to every sink (also before exit, so no line is left behind). */
  readonly flush = (): void => {
    this.scheduled = false;
    if (this.lines.length === 0) return;
    const chunk = this.lines.length === 1 ? this.lines[0]! : this.lines.join('');
    this.lines = [];
    for (const s of this.sinks) s.write(chunk);
  };
}
