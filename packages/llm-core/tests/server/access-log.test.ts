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

function memoryLogger(level: string): { logger: pino.Logger; lines: Line[] } {
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Line);
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
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
