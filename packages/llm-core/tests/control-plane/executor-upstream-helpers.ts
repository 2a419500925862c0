// A scripted OpenAI-like upstream on a real port, for failure cases the sim engines do not produce on
// demand (5xx, hangs, streams cut mid-way). Each test gives the behaviour; every server is closed after.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Handler = (req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>) => void;

export interface ScriptedUpstream {
  baseUrl: string;
  port: number;
  hits: number;
  /** Requests whose connection the client closed before the answer. */
  aborted: number;
  close(): Promise<void>;
}

const servers: Server[] = [];

export async function scriptedUpstream(handler: Handler): Promise<ScriptedUpstream> {
  const state = { hits: 0, aborted: 0 };
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      state.hits += 1;
      res.on('close', () => {
        if (!res.writableFinished) state.aborted += 1;
      });
      let body: Record<string, unknown> = {};
      try {
        body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      } catch {
        /* non-JSON body: handler sees {} */
      }
      handler(req, res, body);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    port,
    get hits() {
      return state.hits;
    },
    get aborted() {
      return state.aborted;
    },
    close: () => closeServer(server),
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

export async function closeAllUpstreams(): Promise<void> {
  await Promise.all(servers.splice(0).filter((s) => s.listening).map(closeServer));
}

/** A chat.completion echoing the last message, tagged with who answered. */
export function echoCompletion(res: ServerResponse, body: Record<string, unknown>, who: string): void {
  const messages = (body.messages as Array<{ content?: string }> | undefined) ?? [];
  const content = `${who}: ${messages[messages.length - 1]?.content ?? body.prompt ?? ''}`;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ id: 'x', object: 'chat.completion', model: body.model, choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 3, total_tokens: 4 } }));
}

export function jsonError(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message, type: 'server_error', param: null, code: null } }));
}
