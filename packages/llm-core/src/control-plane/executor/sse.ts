// Server-sent events from an OpenAI-compatible engine: the payload of each `data:` field (multi-line data joined
// by "\n"), up to `[DONE]`. Comments and other fields are ignored. SseDataParser does it push-wise, so a reader
// of a body can take the events of each piece it receives without another async generator per event.

export class SseDataParser {
  private readonly decoder = new TextDecoder();
  private buffer = '';
  private data: string[] = [];
  /** `[DONE]` was seen: nothing after it counts. */
  done = false;

  /** The complete events in `chunk` (with what earlier pieces left over). */
  push(chunk: Buffer | string): string[] {
    const out: string[] = [];
    if (this.done) return out;
    this.buffer += typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    let start = 0;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n', start)) >= 0) {
      let end = nl;
      if (end > start && this.buffer.charCodeAt(end - 1) === 13) end -= 1; // \r
      const line = this.buffer.slice(start, end);
      start = nl + 1;
      if (line === '') {
        if (this.data.length > 0) {
          const payload = this.data.length === 1 ? (this.data[0] as string) : this.data.join('\n');
          this.data = [];
          if (payload.trim() === '[DONE]') {
            this.done = true;
            break;
          }
          out.push(payload);
        }
        continue;
      }
      if (line.startsWith('data:')) this.data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  /** The last event of a stream cut without its trailing blank line, if any. */
  end(): string | undefined {
    if (this.done) return undefined;
    if (this.buffer.startsWith('data:')) this.data.push(this.buffer.slice(this.buffer.startsWith('data: ') ? 6 : 5));
    this.buffer = '';
    if (this.data.length === 0) return undefined;
    const payload = this.data.join('\n');
    this.data = [];
    return payload.trim() === '[DONE]' ? undefined : payload;
  }
}

export async function* parseSseData(body: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const parser = new SseDataParser();
  for await (const chunk of body) {
    yield* parser.push(chunk);
    if (parser.done) return;
  }
  const last = parser.end();
  if (last !== undefined) yield last;
}
