// Server-sent events in OpenAI's framing: `data: <json>\n\n` per chunk and `data: [DONE]\n\n` at the end.
import type { FastifyReply } from 'fastify';

export class SseStream {
  private ended = false;
  private closedByClient = false;

  constructor(private readonly reply: FastifyReply) {
    reply.hijack(); // we own the socket from here; fastify will not try to send a body
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    reply.raw.on('close', () => {
      if (this.ended) return;
      this.closedByClient = true;
      reply.raw.destroy(); // a half-closed socket would otherwise hold the server open on shutdown
    });
  }

  /** Called once if the client disconnects before the stream ended. */
  onClientClose(fn: () => void): void {
    this.reply.raw.on('close', () => {
      if (this.closedByClient) fn();
    });
  }

  get open(): boolean {
    return !this.ended && !this.closedByClient;
  }

  send(data: unknown): void {
    if (this.open) this.reply.raw.write(`data: ${JSON.stringify(data)}\n\n`);
  }

  done(): void {
    if (!this.open) return;
    this.reply.raw.write('data: [DONE]\n\n');
    this.ended = true;
    this.reply.raw.end();
  }
}
