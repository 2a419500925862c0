// Real HTTP servers for tests (node:http on port 0): an OpenAI-compatible fake that records what it saw.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

export interface TestServer {
  port: number;
  url: string; // http://127.0.0.1:port/v1
  requests: Seen[];
  /** Highest number of requests handled at once. */
  maxConcurrent: number;
  close(): Promise<void>;
}

export type Handler = (req: Seen, res: http.ServerResponse, n: number) => void | Promise<void>;

export async function startServer(handler: Handler): Promise<TestServer> {
  const requests: Seen[] = [];
  let active = 0;
  const state = { maxConcurrent: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = undefined;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        body = raw;
      }
      const seen: Seen = { method: req.method ?? '', path: (req.url ?? '').split('?')[0] ?? '', headers: req.headers, body };
      requests.push(seen);
      active++;
      state.maxConcurrent = Math.max(state.maxConcurrent, active);
      res.on('close', () => active--);
      Promise.resolve(handler(seen, res, requests.length)).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(String(err));
      });
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    get maxConcurrent() {
      return state.maxConcurrent;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (bound then released). */
export async function deadPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export function chatCompletion(content: string, model = 'test-model') {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
  };
}

export interface FakeOptions {
  /** Model entries for /v1/models. */
  models?: Array<Record<string, unknown>>;
  /** Body of GET /health (404 when absent). */
  health?: unknown;
  /** Body of GET /info (404 when absent). */
  info?: unknown;
  /** Reply text for chat (default: "reply from <name>"). */
  name?: string;
  /** Only /v1/embeddings works (chat answers 404). */
  embeddingOnly?: boolean;
  /** Delay before answering chat/embeddings. */
  delayMs?: number;
}

/** A simple OpenAI-compatible server: /v1/models, /health, /info, chat (plain and SSE) and embeddings. */
export function fakeOpenAI(opts: FakeOptions = {}): Promise<TestServer> {
  const models = opts.models ?? [{ id: 'test-model', object: 'model', owned_by: 'test' }];
  return startServer(async (req, res) => {
    if (req.method === 'GET' && req.path === '/v1/models') return json(res, 200, { object: 'list', data: models });
    if (req.method === 'GET' && req.path === '/health') return opts.health ? json(res, 200, opts.health) : json(res, 404, {});
    if (req.method === 'GET' && req.path === '/info') return opts.info ? json(res, 200, opts.info) : json(res, 404, {});
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs).unref());
    const body = req.body as { model?: string; input?: string[]; stream?: boolean; stream_options?: { include_usage?: boolean } };
    if (req.path === '/v1/embeddings') {
      const input = Array.isArray(body.input) ? body.input : [String(body.input)];
      // Deterministic vectors, returned in reverse order to check the client sorts by index.
      const data = input.map((t, index) => ({ object: 'embedding', index, embedding: [t.length, t.charCodeAt(0) || 0] })).reverse();
      return json(res, 200, { object: 'list', model: body.model, data, usage: { prompt_tokens: input.length, total_tokens: input.length } });
    }
    if (req.path === '/v1/chat/completions' && !opts.embeddingOnly) {
      const text = `reply from ${opts.name ?? 'server'}`;
      if (body.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const words = text.split(' ');
        for (const [i, w] of words.entries()) {
          const delta = { content: i === 0 ? w : ` ${w}`, ...(i === 0 && { role: 'assistant' }) };
          res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: body.model, choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`);
          await new Promise((r) => setTimeout(r, 5));
        }
        res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: body.model, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
        if (body.stream_options?.include_usage) {
          const usage = { prompt_tokens: 7, completion_tokens: words.length, total_tokens: 7 + words.length };
          res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: body.model, choices: [], usage })}\n\n`);
        }
        res.end('data: [DONE]\n\n');
        return;
      }
      return json(res, 200, chatCompletion(text, body.model));
    }
    json(res, 404, { error: { message: `no route ${req.method} ${req.path}`, type: 'invalid_request_error', param: null, code: null } });
  });
}

/** Registers an afterAll that closes every server handed to the returned `track`. */
export function useServers(): (p: Promise<TestServer>) => Promise<TestServer> {
  const servers: TestServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });
  return async (p) => {
    const s = await p;
    servers.push(s);
    return s;
  };
}
