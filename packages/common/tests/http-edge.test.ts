// @sage/common/http on a real fastify server: schemas at the route, the one error mapping (zod, fastify's own
// request errors, SageErrors, unknown failures, unknown routes) and the SSE writer's back-pressure and close.
import http from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { SageError } from '../src';
import { installHttpEdge, SseStream, toOpenAIError } from '../src/http/edge';

interface Produced {
  sent: number;
  waits: number;
  finished: boolean;
  closedByClient: boolean;
}

const EVENT = 'x'.repeat(64 * 1024);
const EVENTS = 200;

let app: FastifyInstance;
let base: string;
const produced: Produced = { sent: 0, waits: 0, finished: false, closedByClient: false };

beforeAll(async () => {
  app = Fastify({ bodyLimit: 1024 });
  const edge = installHttpEdge(app);
  const Body = z.strictObject({ model: z.string(), n: z.number().int().min(1).optional(), tags: z.array(z.string()).optional() });
  edge.post('/echo', { schema: { body: Body } }, async (request) => ({ model: request.body.model, n: request.body.n ?? 1 }));
  edge.get('/query', { schema: { querystring: z.object({ drain: z.enum(['true', 'false']).optional() }) } }, async (request) => ({ drain: request.query.drain ?? null }));
  edge.get('/busy', async () => {
    throw new SageError('the queue is full', { status: 429, code: 'queue_full', retryAfterSeconds: 2.5 });
  });
  edge.get('/bug', async () => {
    throw new TypeError('secret internals');
  });
  edge.get('/stream', async (_request, reply) => {
    const sse = new SseStream(reply, { 'x-extra': 'yes' });
    sse.onClientClose(() => (produced.closedByClient = true));
    for (let i = 0; i < EVENTS && sse.open; i++) {
      const wait = sse.send({ i, pad: EVENT });
      produced.sent++;
      if (wait) {
        produced.waits++;
        await wait;
      }
    }
    produced.finished = true;
    sse.done();
    return reply;
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await app?.close();
});

async function post(path: string, body: string, contentType = 'application/json') {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: res.status, headers: res.headers, body: (await res.json()) as { error: { message: string; type: string; param: string | null; code: string | null } } };
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('schemas at the route', () => {
  it('hands the handler the parsed body', async () => {
    const res = await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', n: 2 }) });
    expect(await res.json()).toEqual({ model: 'm', n: 2 });
  });

  it.each([
    ['a missing field', { n: 1 }, 'model', 'missing_required_parameter', /'model' is required/],
    ['a field of the wrong type', { model: 'm', n: 'two' }, 'n', 'invalid_type', /invalid type for 'n'/],
    ['a value out of range', { model: 'm', n: 0 }, 'n', 'invalid_value', /'n'/],
    ['a nested field', { model: 'm', tags: ['a', 3] }, 'tags.1', 'invalid_type', /'tags\.1'/],
    ['an unknown field', { model: 'm', colour: 'red' }, 'colour', 'unknown_parameter', /unknown parameter: 'colour'/],
  ])('rejects %s with 400, the field in param and OpenAI code', async (_name, body, param, code, message) => {
    const r = await post('/echo', JSON.stringify(body));
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ type: 'invalid_request_error', param, code });
    expect(r.body.error.message).toMatch(message);
  });

  it('says a body that is not an object must be one', async () => {
    const r = await post('/echo', '[1,2]');
    expect([r.status, r.body.error.code, r.body.error.message]).toEqual([400, 'invalid_type', 'the request body must be a JSON object']);
  });

  it('validates the query string too', async () => {
    expect(await (await fetch(`${base}/query?drain=true`)).json()).toEqual({ drain: 'true' });
    const bad = await fetch(`${base}/query?drain=maybe`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe('drain');
  });
});

describe('one error mapping', () => {
  it.each([
    ['malformed JSON', '{"model": ', 'application/json', 400, 'invalid_json'],
    ['an empty JSON body', '', 'application/json', 400, 'invalid_json'],
    ['a body that is not JSON', 'model=m', 'text/plain', 415, 'unsupported_media_type'],
    ['a body over the limit', JSON.stringify({ model: 'm'.repeat(2000) }), 'application/json', 413, 'request_too_large'],
  ])('answers %s in OpenAI shape', async (_name, body, contentType, status, code) => {
    const r = await post('/echo', body, contentType);
    expect(r.status).toBe(status);
    expect(Object.keys(r.body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(r.body.error.code).toBe(code);
  });

  it('answers a SageError with its own status, code and Retry-After', async () => {
    const res = await fetch(`${base}/busy`);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('3');
    expect(await res.json()).toEqual({ error: { message: 'the queue is full', type: 'rate_limit_error', param: null, code: 'queue_full' } });
  });

  it('hides an unexpected failure behind a 500', async () => {
    const res = await fetch(`${base}/bug`);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: { message: 'internal server error', type: 'server_error', param: null, code: 'internal_error' } });
    expect(text).not.toContain('secret');
  });

  it('answers an unknown route with 404 route_not_found, without the query string', async () => {
    const res = await fetch(`${base}/nowhere?key=1`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string; code: string } }).error).toMatchObject({ code: 'route_not_found', message: 'no route for GET /nowhere' });
  });

  it('maps zod errors thrown by a handler as 400s', () => {
    const r = z.object({ a: z.string() }).safeParse({});
    expect(toOpenAIError(r.error)).toMatchObject({ status: 400, body: { error: { param: 'a', code: 'missing_required_parameter' } }, internal: false });
  });
});

describe('SSE with back-pressure', () => {
  const open = () =>
    new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.get(`${base}/stream`, resolve);
      req.on('error', reject);
    });

  beforeEach(() => Object.assign(produced, { sent: 0, waits: 0, finished: false, closedByClient: false }));

  it('stops producing while the client does not read, and delivers every event once it does', async () => {
    const res = await open();
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(res.headers['x-extra']).toBe('yes');
    res.pause();
    await until(() => produced.waits > 0, 'the writer to wait for drain');
    const stalledAt = produced.sent;
    expect(stalledAt).toBeLessThan(EVENTS);
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (text += c));
    const ended = new Promise((r) => res.on('end', r));
    res.resume();
    await ended;
    expect(produced.finished).toBe(true);
    const events = text.split('\n\n').filter(Boolean);
    expect(events).toHaveLength(EVENTS + 1);
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(JSON.parse(events[EVENTS - 1]!.slice('data: '.length)).i).toBe(EVENTS - 1);
  });

  it('stops, and releases a waiting producer, when the client goes away', async () => {
    const res = await open();
    res.pause();
    await until(() => produced.waits > 0, 'the writer to wait for drain');
    res.destroy();
    await until(() => produced.finished, 'the producer to stop');
    expect(produced.closedByClient).toBe(true);
    expect(produced.sent).toBeLessThan(EVENTS);
  });
});
