// An OpenAI-compatible engine on a real port that records every request it receives (path, headers, JSON body)
// and answers with fixed, recognisable usage numbers, so a test can see exactly what the control plane forwarded
// and what it passed back.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface RecordingUpstream {
  /** Base URL with /v1, as `--llm-backend` takes it. */
  url: string;
  received: Received[];
  /** The last request to `path` (e.g. '/v1/completions'). */
  last(path: string): Received | undefined;
  close(): Promise<void>;
}

/** Usage the recorder reports, unlike anything the control plane would count itself. */
export const ENGINE_USAGE = { prompt_tokens: 4242, completion_tokens: 3, total_tokens: 4245 };
export const ENGINE_EMBEDDING_TOKENS = 777;

export async function recordingUpstream(opts: { models: string[]; kind: 'llm' | 'embedding' }): Promise<RecordingUpstream> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0]!;
      if (req.method === 'GET') {
        if (path === '/v1/models') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ object: 'list', data: opts.models.map((id) => ({ id, object: 'model', sage_kind: opts.kind })) }));
        } else res.writeHead(path === '/health' ? 200 : 404).end();
        return;
      }
      const body = (raw ? JSON.parse(raw) : {}) as Record<string, unknown>;
      received.push({ path, headers: req.headers, body });
      const model = body.model;
      if (path === '/v1/embeddings') {
        const n = Array.isArray(body.input) ? body.input.length : 1;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            object: 'list',
            model,
            data: Array.from({ length: n }, (_, index) => ({ object: 'embedding', index, embedding: [index, 1, 0] })),
            usage: { prompt_tokens: ENGINE_EMBEDDING_TOKENS, total_tokens: ENGINE_EMBEDDING_TOKENS },
          }),
        );
        return;
      }
      const chat = path === '/v1/chat/completions';
      const object = chat ? 'chat.completion' : 'text_completion';
      const choice = (index: number, text: string, finish: string | null) => (chat ? { index, delta: { content: text }, finish_reason: finish } : { index, text, finish_reason: finish });
      if (body.stream) {
        const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
        const head = { id: 'rec-1', object: chat ? 'chat.completion.chunk' : 'text_completion', created: 0, model };
        const usageNull = includeUsage ? { usage: null } : {};
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const [text, finish] of [['one', null], [' two', null], [' three', 'length']] as const) {
          res.write(`data: ${JSON.stringify({ ...head, choices: [choice(0, text, finish)], ...usageNull })}\n\n`);
        }
        if (includeUsage) res.write(`data: ${JSON.stringify({ ...head, choices: [], usage: ENGINE_USAGE })}\n\n`);
        res.end('data: [DONE]\n\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      const answer = chat ? { index: 0, message: { role: 'assistant', content: 'one two three' }, finish_reason: 'length' } : { index: 0, text: 'one two three', finish_reason: 'length' };
      res.end(JSON.stringify({ id: 'rec-1', object, created: 0, model, choices: [answer], usage: ENGINE_USAGE }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    received,
    last: (path) => [...received].reverse().find((r) => r.path === path),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
