// Access logs (issue 16): one line per request when it ends, carrying both request ids, at the level the operator
// picks; a logger at warn writes no info line at all.
import { Writable } from 'node:stream';
import pino from 'pino';
import { waitFor } from '../support/processes';
import { startHarness, type Harness } from './harness';

interface Line {
  level: number;
  msg: string;
  reqId?: string;
  clientRequestId?: string;
  status?: number;
  url?: string;
  instance?: string;
}

function memoryLogger(level: string, options: pino.LoggerOptions = {}): { logger: pino.Logger; lines: Line[]; raw: string[] } {
  const lines: Line[] = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) {
        if (!l) continue;
        raw.push(l);
        lines.push(JSON.parse(l) as Line);
      }
      done();
    },
  });
  return { logger: pino({ ...options, level }, stream), lines, raw };
}

const chat = (h: Harness, headers: Record<string, string> = {}, stream = false) =>
  fetch(`${h.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'sage-sim-llm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4, stream }),
  });

describe('at info', () => {
  let h: Harness;
  const log = memoryLogger('info');
  beforeAll(async () => {
    h = await startHarness({ logger: log.logger });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('writes one line per request, JSON or streamed, with both ids', async () => {
    const res = await chat(h, { 'x-request-id': 'abc-123' });
    await res.json();
    const streamed = await chat(h, {}, true);
    await streamed.text();
    const missing = await fetch(`${h.cp.url}/nowhere`);
    await missing.text();
    // A line is written when the server finishes the response, which the client may see a moment earlier.
    const access = await waitFor(() => log.lines.filter((l) => l.msg === 'request completed'), (a) => a.length >= 3, 5000);
    expect(access).toHaveLength(3);
    expect(access[0]).toMatchObject({ level: 30, reqId: res.headers.get('x-sage-request-id'), clientRequestId: 'abc-123', status: 200, instance: 'default-llm' });
    expect(access[1]).toMatchObject({ reqId: streamed.headers.get('x-sage-request-id'), status: 200, instance: 'default-llm' });
    expect(access[2]).toMatchObject({ url: '/nowhere', status: 404 });
    expect(log.lines.some((l) => l.msg === 'incoming request')).toBe(false);
  });

  it('lays the line out as a child logger bound to the request id would: the id right after the logger\'s own fields', async () => {
    const res = await chat(h, { 'x-request-id': 'layout-1' });
    await res.json();
    const line = await waitFor(() => log.raw.find((l) => l.includes('"clientRequestId":"layout-1"')), (l) => l !== undefined, 5000);
    expect(Object.keys(JSON.parse(line!) as object)).toEqual(['level', 'time', 'pid', 'hostname', 'reqId', 'method', 'url', 'status', 'ms', 'clientRequestId', 'instance', 'msg']);
    expect(line).toContain(`"reqId":"${res.headers.get('x-sage-request-id')}","method":"POST","url":"/v1/chat/completions","status":200,`);
  });

  it('writes the bytes pino itself writes for the same record, escapes included', async () => {
    const res = await fetch(`${h.baseURL}/chat/completions?x=%22q%22&y=\\`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'quote"and\\backslash' },
      body: JSON.stringify({ model: 'sage-sim-llm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 }),
    });
    await res.json();
    const line = await waitFor(() => log.raw.find((l) => l.includes('backslash')), (l) => l !== undefined, 5000);
    const { level, time, pid, hostname, msg, ...fields } = JSON.parse(line!) as Record<string, unknown>;
    expect({ level, pid, hostname, msg }).toMatchObject({ level: 30, pid: process.pid, msg: 'request completed' });
    expect(fields).toMatchObject({ clientRequestId: 'quote"and\\backslash', url: '/v1/chat/completions?x=%22q%22&y=\\' });
    // The same record through pino's own serializer, on the same logger.
    const before = log.raw.length;
    log.logger.info(fields, 'request completed');
    const theirs = log.raw[before]!;
    expect(line!.replace(/"time":\d+/, '')).toBe(theirs.replace(/"time":\d+/, ''));
    expect(typeof time).toBe('number');
  });
});

describe('with a logger that redacts a field of the line', () => {
  let h: Harness;
  const log = memoryLogger('info', { redact: ['clientRequestId'] });
  beforeAll(async () => {
    h = await startHarness({ logger: log.logger });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('writes the line as that logger writes it', async () => {
    const res = await chat(h, { 'x-request-id': 'secret-1' });
    await res.json();
    const access = await waitFor(() => log.lines.find((l) => l.msg === 'request completed'), (l) => l !== undefined, 5000);
    expect(access).toMatchObject({ clientRequestId: '[Redacted]', status: 200, reqId: res.headers.get('x-sage-request-id') });
    expect(log.raw.some((l) => l.includes('secret-1'))).toBe(false);
  });
});

describe('at debug', () => {
  let h: Harness;
  const log = memoryLogger('debug');
  beforeAll(async () => {
    h = await startHarness({ logger: log.logger });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("carries the request id on the lines written through the request's logger (the error handler's)", async () => {
    const res = await fetch(`${h.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":' });
    expect(res.status).toBe(400);
    await res.json();
    const id = res.headers.get('x-sage-request-id');
    const lines = await waitFor(() => log.lines.filter((l) => l.reqId === id), (a) => a.length >= 2, 5000);
    expect(lines[0]).toMatchObject({ level: 20, status: 400, code: 'invalid_json', msg: 'the request body is not valid JSON' });
    expect(lines[1]).toMatchObject({ level: 30, msg: 'request completed', status: 400 });
  });
});

describe('at warn', () => {
  let h: Harness;
  const log = memoryLogger('warn');
  beforeAll(async () => {
    h = await startHarness({ logger: log.logger });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('writes no info line', async () => {
    for (let i = 0; i < 3; i++) await (await chat(h)).json();
    await (await chat(h, {}, true)).text();
    expect(log.lines.filter((l) => l.level < 40)).toEqual([]);
  });
});
