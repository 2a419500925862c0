// ControlPlaneManager admission, cancellation, retry elsewhere and the circuit breaker, against scripted
// upstreams on real ports (failures on demand).
import type { ServerResponse } from 'node:http';
import {
  InvalidRequestError,
  RequestCancelledError,
  RequestRejectedError,
  UpstreamError,
} from '../../src/control-plane/manager';
import { InstanceType } from '../../src/control-plane/types';
import { echoCompletion, jsonError, scriptedUpstream } from './executor-upstream-helpers';
import { ask, text, until, useManagers } from './manager-test-kit';

const manager = useManagers();

/** An upstream that holds each answer until release() is called. */
async function gatedUpstream() {
  const waiting: Array<() => void> = [];
  const up = await scriptedUpstream((_req, res: ServerResponse, body) => waiting.push(() => echoCompletion(res, body, 'gated')));
  return { up, release: () => waiting.splice(0).forEach((f) => f()), waiting };
}

describe('admission control', () => {
  it('rejects at once with queue_full (429, Retry-After) when the queue is at its bound', async () => {
    const { up, release, waiting } = await gatedUpstream();
    const m = manager({ maxQueueSize: 2 });
    m.registerInstance({ id: 'u', baseUrl: up.baseUrl, models: ['m'], maxConcurrency: 1 });
    const running = m.submit(ask('r'));
    await until(() => waiting.length === 1); // dispatched and held by the engine; now the queue fills
    const queued = [m.submit(ask('q1')), m.submit(ask('q2'))];
    const t0 = Date.now();
    const err = await m.submit(ask('q3')).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(err).toBeInstanceOf(RequestRejectedError);
    expect(err).toMatchObject({ status: 429, code: 'queue_full', type: 'rate_limit_error' });
    expect((err as RequestRejectedError).retryAfterSec).toBeGreaterThanOrEqual(1);
    expect(m.queueLength).toBe(2);
    // Capacity, not a timer, drives the rest: each release lets the next request through.
    const all = Promise.all([running, ...queued]);
    let settled = false;
    void all.finally(() => (settled = true));
    while (!settled) {
      expect(waiting.length).toBeLessThanOrEqual(1); // one slot: never more than one request at the engine
      release();
      await new Promise((r) => setTimeout(r, 10));
    }
    const done = await all;
    expect(done.map((d) => text(d.body))).toEqual(['gated: r', 'gated: q1', 'gated: q2']);
  });

  it('rejects an infeasible deadline with deadline_infeasible (503)', async () => {
    const up = await scriptedUpstream((_req, res, body) => echoCompletion(res, body, 'u'));
    // A deadline-aware policy: fifo, the kit's default, never refuses by deadline.
    const m = manager({ policy: 'slo_aware' });
    m.registerInstance({ id: 'u', baseUrl: up.baseUrl, models: ['m'] });
    await expect(m.submit({ ...ask('x'), maxTokens: 500, sloDeadlineMs: 5 })).rejects.toMatchObject({ status: 503, code: 'deadline_infeasible' });
    expect(up.hits).toBe(0);
  });

  it('rejects with no_instance when nothing can serve the request type, and names unknown models', async () => {
    const up = await scriptedUpstream((_req, res, body) => echoCompletion(res, body, 'u'));
    const m = manager();
    m.registerInstance({ id: 'emb', baseUrl: up.baseUrl, models: ['e'], type: InstanceType.EMBEDDING });
    await expect(m.submit(ask('x'))).rejects.toMatchObject({ status: 503, code: 'no_instance' });
    await expect(m.submit({ model: 'other', input: 'x' })).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    m.markUnhealthy('emb');
    await expect(m.submit({ model: 'e', input: 'x' })).rejects.toMatchObject({ code: 'no_instance' });
  });

  it('validates the request with coded errors', async () => {
    const m = manager();
    await expect(m.submit({ model: 'm', messages: [] })).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(m.submit({ model: 'm', input: [] })).rejects.toMatchObject({ code: 'empty_embedding_texts', status: 400, param: 'input' });
    await expect(m.submit({ ...ask('x'), maxTokens: 0 })).rejects.toMatchObject({ code: 'invalid_max_tokens', param: 'max_tokens' });
  });
});

describe('cancellation', () => {
  it('removes a waiting request from the queue when its caller goes away', async () => {
    const { up, release, waiting } = await gatedUpstream();
    const m = manager();
    m.registerInstance({ id: 'u', baseUrl: up.baseUrl, models: ['m'], maxConcurrency: 1 });
    const first = m.submit(ask('first'));
    const ac = new AbortController();
    const second = m.submit({ ...ask('second'), signal: ac.signal });
    // Release only once the first request is held by the engine: on a loaded machine it may take a while.
    await until(() => waiting.length === 1);
    expect(m.queueLength).toBe(1);
    ac.abort();
    await expect(second).rejects.toBeInstanceOf(RequestCancelledError);
    expect(m.queueLength).toBe(0);
    release();
    await first;
    expect(up.hits).toBe(1); // the cancelled one never reached the engine
  });

  it('cancels a request whose caller goes away before it was first dispatched, with room on the instance', async () => {
    const up = await scriptedUpstream((_req, res, body) => echoCompletion(res, body, 'u'));
    const m = manager();
    m.registerInstance({ id: 'u', baseUrl: up.baseUrl, models: ['m'] });
    const ac = new AbortController();
    const gone = m.submit({ ...ask('gone'), signal: ac.signal });
    ac.abort(); // in the same turn: no dispatch run has seen it yet
    await expect(gone).rejects.toBeInstanceOf(RequestCancelledError);
    expect(m.queueLength).toBe(0);
    expect(text((await m.submit(ask('next'))).body)).toBe('u: next');
    expect(up.hits).toBe(1); // only the second reached the engine
    expect(m.getMetrics().requests.cancelled).toBe(1);
  });

  it('aborts the upstream call of a running request and frees its slot', async () => {
    const { up, release, waiting } = await gatedUpstream();
    const m = manager();
    m.registerInstance({ id: 'u', baseUrl: up.baseUrl, models: ['m'], maxConcurrency: 1 });
    const ac = new AbortController();
    const running = m.submit({ ...ask('leaving'), signal: ac.signal });
    await until(() => waiting.length === 1);
    expect(m.getInstances()[0].load.activeRequests).toBe(1);
    ac.abort();
    await expect(running).rejects.toBeInstanceOf(RequestCancelledError);
    await until(() => up.aborted === 1);
    expect(m.getInstances()[0].load.activeRequests).toBe(0);
    waiting.splice(0);
    const next = m.submit(ask('next'));
    await until(() => waiting.length === 1);
    release();
    expect(text((await next).body)).toBe('gated: next');
    expect(m.getMetrics().requests.cancelled).toBe(1);
  });
});

describe('retry elsewhere and the circuit breaker', () => {
  it('retries a 5xx on another instance and opens the failing instance’s circuit', async () => {
    const bad = await scriptedUpstream((_req, res) => jsonError(res, 503, 'warming up'));
    const good = await scriptedUpstream((_req, res, body) => echoCompletion(res, body, 'good'));
    const m = manager({ router: 'round_robin', circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 } });
    m.registerInstance({ id: 'bad', baseUrl: bad.baseUrl, models: ['m'] });
    m.registerInstance({ id: 'good', baseUrl: good.baseUrl, models: ['m'] });
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await m.submit(ask(`q${i}`)));
    expect(results.every((r) => r.instanceId === 'good')).toBe(true);
    expect(results.map((r) => text(r.body))).toEqual(results.map((_, i) => `good: q${i}`));
    expect(bad.hits).toBe(2); // after two failures the circuit is open and "bad" is skipped
    expect(m.getInstances().find((i) => i.id === 'bad')?.circuit).toBe('open');
  });

  it('fails with the engine named when every attempt fails, and does not retry a 4xx', async () => {
    const bad = await scriptedUpstream((req, res) => jsonError(res, req.url?.includes('/completions') && !req.url.includes('chat') ? 422 : 500, 'nope'));
    const m = manager({ maxAttempts: 2 });
    m.registerInstance({ id: 'only', baseUrl: bad.baseUrl, models: ['m'] });
    const err = await m.submit(ask('x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ status: 502, instanceId: 'only' });
    expect(bad.hits).toBe(2);
    const e4 = await m.submit({ model: 'm', prompt: 'p' }).catch((e: unknown) => e);
    expect(e4).toMatchObject({ status: 422 });
    expect(bad.hits).toBe(3);
  });

  it('lets a probe through after the cooldown and closes the circuit when it succeeds', async () => {
    let failing = true;
    const flaky = await scriptedUpstream((_req, res, body) => (failing ? jsonError(res, 500, 'down') : echoCompletion(res, body, 'flaky')));
    const m = manager({ maxAttempts: 1, circuitBreaker: { failureThreshold: 1, cooldownMs: 200 } });
    m.registerInstance({ id: 'f', baseUrl: flaky.baseUrl, models: ['m'] });
    await expect(m.submit(ask('a'))).rejects.toBeInstanceOf(UpstreamError);
    expect(m.getInstances()[0].circuit).toBe('open');
    failing = false;
    // Queued while open; dispatched by the wake-up at the end of the cooldown, not by polling.
    const r = await m.submit(ask('b'));
    expect(text(r.body)).toBe('flaky: b');
    expect(m.getInstances()[0].circuit).toBe('closed');
  });
});

describe('instance registry', () => {
  it('lets a request running on an unregistered instance finish, and sends new work elsewhere', async () => {
    const { up, release, waiting } = await gatedUpstream();
    const other = await scriptedUpstream((_req, res, body) => echoCompletion(res, body, 'other'));
    const m = manager();
    m.registerInstance({ id: 'old', baseUrl: up.baseUrl, models: ['m'] });
    const running = m.submit(ask('in flight'));
    await until(() => waiting.length === 1);
    m.registerInstance({ id: 'new', baseUrl: other.baseUrl, models: ['m'] });
    expect(m.unregisterInstance('old')).toBe(true);
    const next = await m.submit(ask('after'));
    expect(next.instanceId).toBe('new');
    release();
    const done = await running;
    expect(done.instanceId).toBe('old');
    expect(text(done.body)).toBe('gated: in flight');
    expect(m.getInstances().map((i) => i.id)).toEqual(['new']);
  });
});

describe('streaming', () => {
  it('retries a stream that failed before its first chunk on another instance, then passes chunks through', async () => {
    const bad = await scriptedUpstream((_req, res) => jsonError(res, 502, 'bad gateway'));
    const good = await scriptedUpstream((_req, res, body) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const w of ['hello', ' ', String((body.messages as Array<{ content: string }>)[0].content)]) res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: w } }] })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
    const m = manager({ router: 'round_robin' });
    m.registerInstance({ id: 'bad', baseUrl: bad.baseUrl, models: ['m'] });
    m.registerInstance({ id: 'good', baseUrl: good.baseUrl, models: ['m'] });
    const s = await m.submitStream(ask('world'));
    let out = '';
    for await (const c of s) out += (c.choices as Array<{ delta: { content: string } }>)[0].delta.content;
    expect(out).toBe('hello world');
    expect(s.instanceId).toBe('good');
    expect(bad.hits).toBe(1);
    expect(m.getInstances().every((i) => i.load.activeRequests === 0)).toBe(true);
    const snap = m.getMetrics();
    expect(snap.requests.completed).toBe(1);
  });

  it('ends a stream cut mid-way with an error for the consumer and frees the slot', async () => {
    const up = await scriptedUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'part' } }] })}\n\n`);
      setTimeout(() => res.destroy(), 20);
    });
    const m = manager();
    m.registerInstance({ id: 'u', baseUrl: up.baseUrl, models: ['m'] });
    const s = await m.submitStream(ask('x'));
    const seen: unknown[] = [];
    const err = await (async () => {
      for await (const c of s) seen.push(c);
    })().catch((e: unknown) => e);
    expect(seen).toHaveLength(1);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(up.hits).toBe(1); // not retried: the caller already had a chunk
    expect(m.getInstances()[0].load.activeRequests).toBe(0);
    expect(m.getMetrics().requests.failed).toBe(1);
  });
});

describe('engine metrics', () => {
  it('reads queue and KV-cache use from the engines’ /metrics', async () => {
    const up = await scriptedUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('# HELP x\nvllm:num_requests_running{model_name="m"} 3\nvllm:num_requests_waiting{model_name="m"} 7\nvllm:gpu_cache_usage_perc{model_name="m"} 0.42\n');
    });
    const m = manager({ engineMetricsPollMs: 50 });
    m.registerInstance({ id: 'u', baseUrl: up.baseUrl, models: ['m'] });
    for (let i = 0; i < 40 && m.getInstances()[0].load.queuedRequests !== 7; i++) await new Promise((r) => setTimeout(r, 25));
    expect(m.getInstances()[0].load).toMatchObject({ queuedRequests: 7, kvCacheUsage: 0.42 });
  });
});
