// Server-sent events from an OpenAI-compatible engine: the payload of each `data:` field (multi-line data joined
// by "\n"), up to `[DONE]`. Comments and other fields are ignored. SseDataParser does it push-wise, so a reader
// of a body can take the events of each piece it receives without another async generator per event.
import { StringDecoder } from 'node:string_decoder';

export class SseDataParser {
  /**
   * Made only once a piece ends inside a UTF-8 character (its rest comes with the next piece): an engine's pieces
   * end with an event's blank line, so most streams decode every piece as it is, with no decoder of their own.
   */
  private decoder: StringDecoder | undefined;
  /** No text decoded yet: a byte order mark opening the stream is dropped (as TextDecoder did). */
  private fresh = true;
  private buffer = '';
  private data: string[] = [];
  /** `[DONE]` was seen: nothing after it counts. */
  done = false;

  /** The complete events in `chunk` (with what earlier pieces left over). */
  push(chunk: Buffer | string): string[] {
    const out: string[] = [];
    if (this.done) return out;
    this.buffer += typeof chunk === 'string' ? chunk : this.decode(chunk);
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

  private decode(chunk: Buffer): string {
    // A last byte below 0x80 ends a character, so the piece holds whole characters only (unless an earlier piece
    // left a character's first bytes in the decoder).
    let text: string;
    if (this.decoder === undefined && (chunk.length === 0 || (chunk[chunk.length - 1] as number) < 0x80)) text = chunk.toString('utf8');
    else text = (this.decoder ??= new StringDecoder('utf8')).write(chunk);
    if (this.fresh && text.length > 0) {
      this.fresh = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    return text;
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
