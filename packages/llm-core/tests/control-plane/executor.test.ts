// EngineExecutor over real sockets: error classification (what may be retried elsewhere, what means the
// engine is down), timeouts, and streaming passthrough including a stream cut mid-way.
import { EngineExecutor } from '../../src/control-plane/executor';
import { InstanceRegistry, UpstreamError } from '../../src/control-plane/manager';
import { closeAllUpstreams, echoCompletion, jsonError, scriptedUpstream } from './executor-upstream-helpers';
import { until } from './manager-test-kit';

const registry = new InstanceRegistry();
const instanceAt = (baseUrl: string) => registry.register({ baseUrl, models: ['m'] });
let executor: EngineExecutor;

beforeEach(() => {
  executor = new EngineExecutor({ requestTimeoutMs: 5000 });
});
afterEach(async () => {
  await executor.close();
  await closeAllUpstreams();
});

describe('EngineExecutor', () => {
  it('posts JSON over a keep-alive pool', async () => {
    const up = await scriptedUpstream((_req, res, body) => echoCompletion(res, body, 'up'));
    const inst = instanceAt(up.baseUrl);
    const r1 = await executor.postJson(inst, '/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'one' }] });
    const r2 = await executor.postJson(inst, '/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'two' }] });
    expect((r1.body.choices as Array<{ message: { content: string } }>)[0].message.content).toBe('up: one');
    expect((r2.body.choices as Array<{ message: { content: string } }>)[0].message.content).toBe('up: two');
  });

  it('classifies a 5xx as retryable elsewhere and a 4xx as the caller’s error', async () => {
    const up = await scriptedUpstream((req, res) => (req.url?.includes('chat') ? jsonError(res, 503, 'overloaded') : jsonError(res, 400, 'bad max_tokens')));
    const inst = instanceAt(up.baseUrl);
    const e5 = await executor.postJson(inst, '/chat/completions', {}).catch((e: unknown) => e);
    expect(e5).toBeInstanceOf(UpstreamError);
    expect(e5).toMatchObject({ status: 502, upstreamStatus: 503, retryable: true, connectionFailure: false, instanceId: inst.id });
    expect((e5 as Error).message).toContain('overloaded');
    const e4 = await executor.postJson(inst, '/completions', {}).catch((e: unknown) => e);
    expect(e4).toMatchObject({ status: 400, upstreamStatus: 400, retryable: false });
  });

  it('reports a refused connection as a connection failure', async () => {
    const up = await scriptedUpstream(() => undefined);
    const inst = instanceAt(up.baseUrl);
    await up.close();
    const err = await executor.postJson(inst, '/chat/completions', {}).catch((e: unknown) => e);
    expect(err).toMatchObject({ connectionFailure: true, retryable: true, beforeFirstByte: true, status: 502 });
  });

  it('times out a hanging engine with a 504', async () => {
    const up = await scriptedUpstream(() => undefined); // never answers
    const inst = instanceAt(up.baseUrl);
    const err = await executor.postJson(inst, '/chat/completions', {}, { timeoutMs: 150 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 504, code: 'upstream_timeout' });
  });

  it('times out each call on the default timeout after its own full duration, calls answered meanwhile untouched', async () => {
    const short = new EngineExecutor({ requestTimeoutMs: 300 });
    try {
      const up = await scriptedUpstream((_req, res, body) => (body.hang ? undefined : echoCompletion(res, body, 'up')));
      const inst = instanceAt(up.baseUrl);
      const timed = async (payload: Record<string, unknown>) => {
        const start = performance.now();
        const err = await short.postJson(inst, '/chat/completions', payload).catch((e: unknown) => e);
        return { err, start, end: performance.now() };
      };
      // Answered at once: the clock it started must still expire the calls after it, each at its own time.
      const quick = await short.postJson(inst, '/chat/completions', { messages: [{ role: 'user', content: 'quick' }] });
      const first = timed({ hang: true });
      await until(() => up.hits === 2);
      // Staggered on purpose: the second call must get its full 300 ms, not expire with the first.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const second = timed({ hang: true });
      const [a, b] = await Promise.all([first, second]);
      for (const r of [a, b]) {
        expect(r.err).toMatchObject({ status: 504, code: 'upstream_timeout', beforeFirstByte: true, cause: { name: 'TimeoutError', message: 'no answer within 300 ms' } });
        expect(r.end - r.start).toBeGreaterThanOrEqual(300);
      }
      expect(b.end).toBeGreaterThan(a.end);
      expect((quick.body.choices as Array<{ message: { content: string } }>)[0].message.content).toBe('up: quick');
      await until(() => up.aborted === 2);
    } finally {
      await short.close();
    }
  });

  it('streams SSE chunks and reports a stream cut mid-way as not retryable', async () => {
    const up = await scriptedUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"choices":[{"delta":{"content":"a"}}]}\n\n');
      res.write('data: {"choices":[{"delta":{"content":"b"}}]}\n\n');
      setTimeout(() => res.destroy(), 20);
    });
    const inst = instanceAt(up.baseUrl);
    const s = await executor.postStream(inst, '/chat/completions', { stream: true });
    const got: unknown[] = [];
    const err = await (async () => {
      for await (const c of s.chunks) got.push(c);
    })().catch((e: unknown) => e);
    expect(got).toHaveLength(2);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ beforeFirstByte: false, retryable: false });
  });

  it('reads an answer sent in pieces whole, a character split across two pieces and a byte order mark included', async () => {
    const answer = Buffer.from(JSON.stringify({ id: 'x', choices: [{ index: 0, message: { content: 'héllo ✓ wörld' }, finish_reason: 'stop' }] }));
    const split = answer.indexOf(Buffer.from('✓')) + 1; // inside the 3 bytes of ✓
    const up = await scriptedUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(Buffer.from([0xef, 0xbb, 0xbf]));
      res.write(answer.subarray(0, split));
      setTimeout(() => res.end(answer.subarray(split)), 20);
    });
    const r = await executor.postJson(instanceAt(up.baseUrl), '/chat/completions', {});
    expect(r.status).toBe(200);
    expect(r.text).toBe(answer.toString('utf8'));
    expect((r.body.choices as Array<{ message: { content: string } }>)[0].message.content).toBe('héllo ✓ wörld');
  });

  it('fails a 2xx answer that is not JSON as retryable elsewhere, and keeps the body of an error answer that is not JSON', async () => {
    const up = await scriptedUpstream((req, res) => {
      res.writeHead(req.url?.includes('chat') ? 200 : 500, { 'content-type': 'text/plain' });
      res.end('upstream proxy: not json');
    });
    const inst = instanceAt(up.baseUrl);
    const bad = await executor.postJson(inst, '/chat/completions', {}).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(UpstreamError);
    expect(bad).toMatchObject({ status: 502, retryable: true, beforeFirstByte: true, connectionFailure: false, upstreamStatus: undefined });
    const e5 = await executor.postJson(inst, '/completions', {}).catch((e: unknown) => e);
    expect(e5).toMatchObject({ status: 502, upstreamStatus: 500, upstreamBody: 'upstream proxy: not json', retryable: true });
  });

  it('cuts a call still waiting for its answer, and leaves an answered one alone', async () => {
    let hold = true;
    const up = await scriptedUpstream((_req, res, body) => (hold ? undefined : echoCompletion(res, body, 'up')));
    const inst = instanceAt(up.baseUrl);
    const waiting = executor.postJson(inst, '/chat/completions', {}, { cutWhenStalled: true }).catch((e: unknown) => e);
    await until(() => up.hits === 1);
    hold = false;
    const answered = await executor.postJson(inst, '/chat/completions', { messages: [{ role: 'user', content: 'hi' }] }, { cutWhenStalled: true });
    executor.cutWaiting(inst.id, new UpstreamError('stalled', { instanceId: inst.id, beforeFirstByte: true, timeout: true }));
    expect(await waiting).toMatchObject({ message: `engine ${inst.id}: stalled`, code: 'upstream_timeout', retryable: true });
    expect((answered.body.choices as Array<{ message: { content: string } }>)[0].message.content).toBe('up: hi');
    await until(() => up.aborted === 1);
  });

  it('aborts a call still queued for a connection once one frees, without sending it', async () => {
    const one = new EngineExecutor({ connectionsPerInstance: 1, requestTimeoutMs: 5000 });
    try {
      let release: (() => void) | undefined;
      const up = await scriptedUpstream((_req, res, body) => {
        release = () => echoCompletion(res, body, 'up');
      });
      const inst = instanceAt(up.baseUrl);
      const first = one.postJson(inst, '/chat/completions', { messages: [{ role: 'user', content: 'first' }] });
      await until(() => up.hits === 1);
      const ac = new AbortController();
      const queued = one.postJson(inst, '/chat/completions', {}, { signal: ac.signal }).catch((e: unknown) => e);
      ac.abort(new Error('caller left'));
      release?.();
      expect(((await first).body.choices as Array<{ message: { content: string } }>)[0].message.content).toBe('up: first');
      expect(await queued).toMatchObject({ message: 'caller left' });
      expect(up.hits).toBe(1);
    } finally {
      await one.close();
    }
  });

  it('aborts the upstream call when the caller goes away', async () => {
    const up = await scriptedUpstream(() => undefined);
    const inst = instanceAt(up.baseUrl);
    const ac = new AbortController();
    const p = executor.postJson(inst, '/chat/completions', {}, { signal: ac.signal });
    await until(() => up.hits === 1); // the engine holds the request
    ac.abort(new Error('caller left'));
    await expect(p).rejects.toThrow('caller left');
    await until(() => up.aborted === 1);
    expect(up.aborted).toBe(1);
  });
});
