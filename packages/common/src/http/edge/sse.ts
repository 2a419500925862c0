// Server-sent events in OpenAI's framing — `data: <json>\n\n` per event, `data: [DONE]\n\n` at the end — with
// back-pressure: when the socket's buffer is full, send() hands back a promise that settles once the client has
// read it ('drain') or has gone, so a producer that awaits it never buffers a whole answer for a slow reader.
import type { FastifyReply } from 'fastify';
import type { ServerResponse } from 'node:http';
import { toOpenAIError } from './openai-errors';

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
} as const;

export class SseStream {
  private readonly res: ServerResponse;
  private ended = false;
  private gone = false;
  private draining: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly onGone: Array<() => void> = [];

  /**
   * Takes the response over from fastify and sends the status line and headers at once: the ones already set on
   * the reply (request ids, session ids), `headers`, then the event-stream ones. `withFirstEvent`: a relay that has
   * its first event in hand lets the headers go out with it, in one write, instead of on their own.
   */
  constructor(reply: FastifyReply, headers: Readonly<Record<string, string>> = {}, opts: { withFirstEvent?: boolean } = {}) {
    // fastify's getHeaders() is a fresh object: it is completed in place rather than copied again.
    const set = reply.getHeaders() as Record<string, string | number | string[] | undefined>;
    for (const k in headers) set[k] = headers[k];
    for (const k in SSE_HEADERS) set[k] = SSE_HEADERS[k as keyof typeof SSE_HEADERS];
    for (const k in set) if (set[k] === undefined) delete set[k];
    reply.hijack();
    this.res = reply.raw;
    this.res.writeHead(200, set as Record<string, string | number | string[]>);
    if (!opts.withFirstEvent) this.res.flushHeaders();
    this.res.on('drain', () => this.release());
    this.res.once('close', () => {
      if (this.ended) return;
      this.gone = true;
      this.release();
      // A half-closed socket would otherwise hold the server open on shutdown.
      this.res.destroy();
      for (const fn of this.onGone.splice(0)) fn();
    });
  }

  /** Neither ended nor left by the client: events still go out. */
  get open(): boolean {
    return !this.ended && !this.gone && !this.res.destroyed;
  }

  /** Calls `fn` once if the client leaves before the stream ended (to cancel the work behind it). */
  onClientClose(fn: () => void): void {
    if (this.gone) fn();
    else this.onGone.push(fn);
  }

  /**
   * Sends one event. Returns a promise only when the client is behind (the socket's buffer is full): await it
   * before producing more. A closed stream drops the event.
   */
  send(data: unknown): Promise<void> | undefined {
    return this.open ? this.sendText(JSON.stringify(data)) : undefined;
  }

  /** send() for an event whose JSON text is in hand (one line, as an engine sent it): written as it is. */
  sendText(json: string): Promise<void> | undefined {
    if (!this.open) return undefined;
    if (this.res.write(`data: ${json}\n\n`)) return undefined;
    this.draining ??= new Promise<void>((resolve) => (this.wake = resolve));
    return this.draining;
  }

  /** Ends the stream with `data: [DONE]`. */
  done(): void {
    if (!this.open) return;
    this.ended = true;
    this.res.end('data: [DONE]\n\n');
    this.release();
  }

  /** Ends the stream with the failure as an OpenAI error event (headers are gone: it cannot be a status). */
  fail(err: unknown): void {
    if (!this.open) return;
    void this.send(toOpenAIError(err).body);
    this.done();
  }

  private release(): void {
    const wake = this.wake;
    this.draining = undefined;
    this.wake = undefined;
    wake?.();
  }
}
