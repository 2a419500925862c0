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
