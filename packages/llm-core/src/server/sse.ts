// Server-sent events for streamed completions, framed as OpenAI does: `data: <json>\n\n` … `data: [DONE]\n\n`.
import type { FastifyReply } from 'fastify';

export interface SseWriter {
  readonly closed: boolean;
  data(payload: unknown): void;
  done(): void;
}

export function openSse(reply: FastifyReply, headers: Record<string, string> = {}): SseWriter {
  // Headers set on the reply so far (the request ids) go out too: hijacking skips fastify's own sending.
  const set: Record<string, string | number | string[]> = {};
  for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) set[k] = v;
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    ...set,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    ...headers,
  });
  // No flushHeaders(): the stream opens with its first chunk in hand, so the headers go out in one write with it.
  let ended = false;
  return {
    get closed() {
      return ended || res.destroyed || res.writableEnded;
    },
    data(payload) {
      if (!this.closed) res.write(`data: ${JSON.stringify(payload)}\n\n`);
    },
    done() {
      if (this.closed) return;
      res.write('data: [DONE]\n\n');
      res.end();
      ended = true;
    },
  };
}
