// F-208 stream timeouts, over real sockets: a JSON call is bounded as a whole by requestTimeoutMs; a stream
// only until its first chunk, then by streamIdleTimeoutMs between chunks, with no cap on its total length.
// An idle stream ends with upstream_timeout and its upstream request is aborted (the engine frees the slot).
import type { ServerResponse } from 'node:http';
import { EngineExecutor } from '../../src/control-plane/executor';
import { InstanceRegistry, UpstreamError } from '../../src/control-plane/manager';
import { closeAllUpstreams, scriptedUpstream } from './executor-upstream-helpers';
import { ask, until, useManagers, within } from './manager-test-kit';

const REQUEST_TIMEOUT_MS = 300;
const IDLE_TIMEOUT_MS = 400;

const chunk = (content: string) => `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }] })}\n\n`;

/** An SSE answer: `count` chunks `everyMs` apart (the first after `firstAfterMs`), then [DONE] — or a stall after `stallAfter` chunks. */
function sse(res: ServerResponse, o: { count: number; everyMs: number; firstAfterMs?: number; stallAfter?: number }): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.flushHeaders(); // headers go out at once, as an engine's do, whenever the first token comes
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  res.on('close', () => clearTimeout(timer));
  const next = () => {
    if (res.destroyed) return;
    if (o.stallAfter !== undefined && sent >= o.stallAfter) return; // goes silent, connection left open
    if (sent >= o.count) {
      res.end('data: [DONE]\n\n');
      return;
    }
    res.write(chunk(`t${sent}`));
    sent += 1;
    timer = setTimeout(next, o.everyMs);
  };
  timer = setTimeout(next, o.firstAfterMs ?? 0);
}

async function drain(chunks: AsyncIterable<Record<string, unknown>>): Promise<{ got: number; err?: unknown }> {
  let got = 0;
  try {
    for await (const c of chunks) {
      void c;
      got += 1;
    }
    return { got };
  } catch (err) {
    return { got, err };
  }
}

describe('EngineExecutor stream timeouts', () => {
  const registry = new InstanceRegistry();
  let executor: EngineExecutor;
  beforeEach(() => {
    executor = new EngineExecutor({ requestTimeoutMs: REQUEST_TIMEOUT_MS, streamIdleTimeoutMs: IDLE_TIMEOUT_MS });
  });
  afterEach(async () => {
    await executor.close();
    await closeAllUpstreams();
  });

  it('lets a stream that progresses steadily run well past requestTimeoutMs', async () => {
    // Bounds of its own, roomier than the file's: the first chunk comes over a fresh connection, which a loaded CI
    // machine can keep past 300 ms, and this case is about the length of the stream, not about that first wait.
    const requestTimeoutMs = 1000;
    const steady = new EngineExecutor({ requestTimeoutMs, streamIdleTimeoutMs: 1000 });
    try {
      // 15 chunks 120 ms apart: ~1.8 s in all, well past the request timeout, never idle for long.
      const up = await scriptedUpstream((_req, res) => sse(res, { count: 15, everyMs: 120 }));
      const inst = registry.register({ baseUrl: up.baseUrl, models: ['m'] });
      const started = Date.now();
      const s = await steady.postStream(inst, '/chat/completions', { stream: true });
      const r = await within(drain(s.chunks), 10_000);
      expect(r.err).toBeUndefined();
      expect(r.got).toBe(15);
      expect(Date.now() - started).toBeGreaterThan(requestTimeoutMs);
      expect(up.aborted).toBe(0);
    } finally {
      await steady.close();
    }
  });

  it('ends a stream that stalls after its first chunk with upstream_timeout and aborts the upstream request', async () => {
    const up = await scriptedUpstream((_req, res) => sse(res, { count: 10, everyMs: 20, stallAfter: 2 }));
    const inst = registry.register({ baseUrl: up.baseUrl, models: ['m'] });
    const s = await executor.postStream(inst, '/chat/completions', { stream: true });
    const r = await within(drain(s.chunks), 5000);
    expect(r.got).toBe(2);
    expect(r.err).toBeInstanceOf(UpstreamError);
    expect(r.err).toMatchObject({ status: 504, code: 'upstream_timeout', beforeFirstByte: false, retryable: false });
    await until(() => up.aborted === 1, 3000);
  });

  it('bounds the wait for the first chunk by requestTimeoutMs (a retryable 504)', async () => {
    // Headers at once, then nothing: time to first token is what requestTimeoutMs bounds.
    const up = await scriptedUpstream((_req, res) => sse(res, { count: 1, everyMs: 10, stallAfter: 0 }));
    const inst = registry.register({ baseUrl: up.baseUrl, models: ['m'] });
    const started = Date.now();
    const s = await executor.postStream(inst, '/chat/completions', { stream: true });
    const r = await within(drain(s.chunks), 5000);
    expect(r.got).toBe(0);
    expect(r.err).toMatchObject({ status: 504, code: 'upstream_timeout', beforeFirstByte: true, retryable: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 5);
    await until(() => up.aborted === 1, 3000);
  });

  it('does not count a slow reader as an idle engine', async () => {
    const up = await scriptedUpstream((_req, res) => sse(res, { count: 4, everyMs: 1 }));
    const inst = registry.register({ baseUrl: up.baseUrl, models: ['m'] });
    const s = await executor.postStream(inst, '/chat/completions', { stream: true });
    let got = 0;
    for await (const c of s.chunks) {
      void c;
      got += 1;
      await new Promise((r) => setTimeout(r, IDLE_TIMEOUT_MS + 100)); // the consumer holds each chunk longer than the idle bound
    }
    expect(got).toBe(4);
  });

  it('still bounds a non-streaming call as a whole', async () => {
    // Bytes keep coming, but the JSON answer as a whole takes longer than requestTimeoutMs.
    const up = await scriptedUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id":"x", ');
      const t = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(t));
    });
    const inst = registry.register({ baseUrl: up.baseUrl, models: ['m'] });
    const err = await within(executor.postJson(inst, '/chat/completions', {}), 5000).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 504, code: 'upstream_timeout' });
  });
});

describe('ControlPlaneManager stream timeouts', () => {
  const manager = useManagers();

  it('a long streamed generation completes; one that goes idle fails, is recorded, and frees its slot', async () => {
    const up = await scriptedUpstream((_req, res, body) => {
      const last = (body.messages as Array<{ content: string }>).at(-1)?.content;
      if (last === 'steady') sse(res, { count: 15, everyMs: 60 });
      else sse(res, { count: 10, everyMs: 20, stallAfter: 1 });
    });
    const m = manager({ requestTimeoutMs: REQUEST_TIMEOUT_MS, streamIdleTimeoutMs: IDLE_TIMEOUT_MS });
    m.registerInstance({ id: 'u', baseUrl: up.baseUrl, models: ['m'], maxConcurrency: 1 });

    const steady = await within(m.submitStream(ask('steady')));
    const ok = await within(drain(steady), 10_000);
    expect(ok).toEqual({ got: 15 });

    const stalled = await within(m.submitStream(ask('stall')));
    const bad = await within(drain(stalled), 5000);
    expect(bad.got).toBe(1);
    expect(bad.err).toMatchObject({ status: 504, code: 'upstream_timeout', beforeFirstByte: false });
    await until(() => up.aborted === 1, 3000);
    await until(() => m.getInstances()[0].load.activeRequests === 0 && m.status().running === 0, 3000);
    const snap = m.getMetrics();
    expect(snap.requests.completed).toBe(1);
    expect(snap.requests.failed).toBe(1);
  });
});
