// Reliability of the manager's I/O paths (F-203, F-207, F-208): no request left hanging, no slot
// or circuit left held, against scripted upstreams on real ports. Each case is a bug that once existed.
import type { ServerResponse } from 'node:http';
import { RequestCancelledError, UpstreamError } from '../../src/control-plane/manager';
import { InstanceType, type RoutingStrategy, type SchedulingPolicy } from '../../src/control-plane/types';
import { echoCompletion, jsonError, scriptedUpstream } from './executor-upstream-helpers';
import { ask, text, until, useManagers, within } from './manager-test-kit';

const manager = useManagers();

describe('circuit breaker probes', () => {
  it('a half-open probe cancelled by its caller does not leave the circuit stuck half-open', async () => {
    let mode: 'fail' | 'hang' | 'ok' = 'fail';
    const up = await scriptedUpstream((_req, res, body) => {
      if (mode === 'fail') jsonError(res, 500, 'down');
      else if (mode === 'ok') echoCompletion(res, body, 'u');
      // 'hang': no answer
    });
    const m = manager({ maxAttempts: 1, circuitBreaker: { failureThreshold: 1, cooldownMs: 100 } });
    m.registerInstance({ id: 'u', baseUrl: up.baseUrl, models: ['m'] });
    await expect(m.submit(ask('a'))).rejects.toBeInstanceOf(UpstreamError);
    expect(m.getInstances()[0].circuit).toBe('open');

    mode = 'hang';
    const ac = new AbortController();
    const probe = m.submit({ ...ask('probe'), signal: ac.signal });
    await until(() => up.hits === 2); // the cooldown passed and the probe reached the engine
    ac.abort();
    await expect(probe).rejects.toBeInstanceOf(RequestCancelledError);

    mode = 'ok';
    const r = await within(m.submit(ask('after')));
    expect(text(r.body)).toBe('u: after');
    expect(m.getInstances()[0].circuit).toBe('closed');
  });
});

function sseChunk(res: ServerResponse, content: string): void {
  res.write(`data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }] })}\n\n`);
}

/** Streams three chunks (or holds after the first with `hold`), answers JSON requests with an echo. */
async function streamingUpstream(opts: { hold?: boolean } = {}) {
  return scriptedUpstream((_req, res, body) => {
    if (body.stream !== true) return echoCompletion(res, body, 'u');
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    sseChunk(res, 'one');
    if (opts.hold) return; // the rest never comes: only an abort or the end of the test ends it
    sseChunk(res, ' two');
    sseChunk(res, ' three');
    res.end('data: [DONE]\n\n');
  });
}

describe('streams', () => {
  it('a consumer that stops reading early is a cancellation, not an engine failure', async () => {
    const up = await streamingUpstream();
    const m = manager({ circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 } });
    m.registerInstance({ id: 'u', baseUrl: up.baseUrl, models: ['m'] });
    for (let i = 0; i < 3; i++) {
      const s = await within(m.submitStream(ask(`s${i}`)));
      for await (const chunk of s) {
        expect(chunk.object).toBe('chat.completion.chunk');
        break;
      }
    }
    expect(m.getInstances()[0].circuit).toBe('closed');
    expect(m.getInstances()[0].load.activeRequests).toBe(0);
    const snap = m.getMetrics();
    expect(snap.requests.failed).toBe(0);
    expect(snap.requests.cancelled).toBe(3);
    expect(text((await within(m.submit(ask('next')))).body)).toBe('u: next');
  });

  it('a stream given up before it is iterated (return()) frees its slot', async () => {
    const up = await streamingUpstream({ hold: true });
    const m = manager();
    m.registerInstance({ id: 'u', baseUrl: up.baseUrl, models: ['m'], maxConcurrency: 1 });
    const s = await within(m.submitStream(ask('unread')));
    await s[Symbol.asyncIterator]().return?.(undefined);
    await until(() => m.getInstances()[0].load.activeRequests === 0 && m.status().running === 0, 3000);
    await until(() => up.aborted === 1, 3000); // the upstream stream was closed, not left open
    expect(text((await within(m.submit(ask('next')))).body)).toBe('u: next');
  });

  it('a stream whose caller aborts before iterating frees its slot, and iterating it then reports the cancellation', async () => {
    const up = await streamingUpstream({ hold: true });
    const m = manager();
    m.registerInstance({ id: 'u', baseUrl: up.baseUrl, models: ['m'], maxConcurrency: 1 });
    const ac = new AbortController();
    const s = await within(m.submitStream({ ...ask('unread'), signal: ac.signal }));
    ac.abort();
    await until(() => m.getInstances()[0].load.activeRequests === 0 && m.status().running === 0, 3000);
    await until(() => up.aborted === 1, 3000);
    const err = await (async () => {
      for await (const c of s) void c;
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestCancelledError);
    expect(m.getMetrics().requests.cancelled).toBe(1);
    expect(text((await within(m.submit(ask('next')))).body)).toBe('u: next');
  });
});

describe('requests with nowhere left to go', () => {
  it('fails a request whose only engine dropped the connection, instead of queueing it for an engine that is down', async () => {
    const up = await scriptedUpstream((req) => req.socket.destroy());
    const m = manager({ healthProbeIntervalMs: 60_000 });
    m.registerInstance({ id: 'dead', baseUrl: up.baseUrl, models: ['m'] });
    const err = await within(m.submit(ask('x')).catch((e: unknown) => e));
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ status: 502, instanceId: 'dead', connectionFailure: true });
    expect(m.queueLength).toBe(0);
    expect(m.getInstances()[0]).toMatchObject({ health: 'unhealthy', load: { activeRequests: 0 } });
    expect(m.getMetrics().requests.failed).toBe(1);
  });

  it('still retries on another healthy engine when one drops the connection', async () => {
    const dead = await scriptedUpstream((req) => req.socket.destroy());
    const good = await scriptedUpstream((_req, res, body) => echoCompletion(res, body, 'good'));
    const m = manager({ router: 'round_robin', healthProbeIntervalMs: 60_000 });
    m.registerInstance({ id: 'dead', baseUrl: dead.baseUrl, models: ['m'] });
    m.registerInstance({ id: 'good', baseUrl: good.baseUrl, models: ['m'] });
    const rs = await within(Promise.all([0, 1, 2, 3].map((i) => m.submit(ask(`q${i}`)))));
    expect(rs.map((r) => text(r.body))).toEqual(['good: q0', 'good: q1', 'good: q2', 'good: q3']);
  });

  it('fails queued requests with no_instance when the last instance serving them is unregistered', async () => {
    const waiting: Array<() => void> = [];
    const up = await scriptedUpstream((_req, res, body) => waiting.push(() => echoCompletion(res, body, 'old')));
    const m = manager();
    m.registerInstance({ id: 'old', baseUrl: up.baseUrl, models: ['m'], maxConcurrency: 1 });
    const running = m.submit(ask('in flight'));
    await until(() => waiting.length === 1);
    const queued = m.submit(ask('queued'));
    await until(() => m.queueLength === 1);
    expect(m.unregisterInstance('old')).toBe(true);
    await expect(within(queued)).rejects.toMatchObject({ status: 503, code: 'no_instance' });
    expect(m.queueLength).toBe(0);
    waiting.splice(0).forEach((f) => f());
    expect(text((await within(running)).body)).toBe('old: in flight'); // the one in flight still finishes
  });

  it('keeps queued requests across an unregister and re-register of the same id in one turn (engine restart)', async () => {
    const waiting: Array<() => void> = [];
    const up = await scriptedUpstream((_req, res, body) => waiting.push(() => echoCompletion(res, body, 'e')));
    const m = manager();
    m.registerInstance({ id: 'e', baseUrl: up.baseUrl, models: ['m'], maxConcurrency: 1 });
    const running = m.submit(ask('in flight'));
    await until(() => waiting.length === 1);
    const queued = m.submit(ask('queued'));
    await until(() => m.queueLength === 1);
    m.unregisterInstance('e');
    m.registerInstance({ id: 'e', baseUrl: up.baseUrl, models: ['m'], maxConcurrency: 1 });
    await until(() => waiting.length === 2); // the fresh registration has a free slot: the queued one is sent
    waiting.splice(0).forEach((f) => f());
    expect(text((await within(queued)).body)).toBe('e: queued');
    expect(text((await within(running)).body)).toBe('e: in flight');
  });

  it('keeps queued requests when another instance still serves their model', async () => {
    const waiting: Array<() => void> = [];
    const old = await scriptedUpstream((_req, res, body) => waiting.push(() => echoCompletion(res, body, 'old')));
    const m = manager();
    m.registerInstance({ id: 'old', baseUrl: old.baseUrl, models: ['m'], maxConcurrency: 1 });
    const running = m.submit(ask('in flight'));
    await until(() => waiting.length === 1);
    const queued = m.submit(ask('queued'));
    await until(() => m.queueLength === 1);
    const fresh = await scriptedUpstream((_req, res, body) => echoCompletion(res, body, 'new'));
    m.registerInstance({ id: 'new', baseUrl: fresh.baseUrl, models: ['m'], health: 'unhealthy' });
    m.unregisterInstance('old');
    await new Promise((r) => setTimeout(r, 30));
    expect(m.queueLength).toBe(1); // 'new' serves the model: the request waits for it
    m.markHealthy('new');
    expect(text((await within(queued)).body)).toBe('new: queued');
    waiting.splice(0).forEach((f) => f());
    await within(running);
  });
});

describe('admission', () => {
  it('does not refuse a burst as queue_full while instances have free slots', async () => {
    const up = await scriptedUpstream((_req, res, body) => echoCompletion(res, body, 'u'));
    const m = manager({ maxQueueSize: 1 });
    m.registerInstance({ id: 'u', baseUrl: up.baseUrl, models: ['m'], maxConcurrency: 8 });
    const rs = await within(Promise.all([0, 1, 2, 3].map((i) => m.submit(ask(`b${i}`)))));
    expect(rs.map((r) => text(r.body))).toEqual(['u: b0', 'u: b1', 'u: b2', 'u: b3']);
  });
});

describe('prefill/decode separation', () => {
  /** Always picks the named instance for every queued request it has a slot for. */
  function pinTo(id: string): SchedulingPolicy {
    return {
      name: 'pin',
      schedule: (queue, ctx) => {
        const inst = ctx.instances.find((i) => i.id === id);
        if (!inst) return { decisions: [], rejections: [] };
        const free = Math.max(0, inst.maxConcurrency - inst.load.activeRequests);
        return { decisions: queue.slice(0, free).map((r) => ({ requestId: r.id, instanceId: id, estimatedLatencyMs: 0, reason: 'pinned', policy: 'pin' })), rejections: [] };
      },
    };
  }
  const longAsk = () => ask(Array.from({ length: 40 }, (_, i) => `sentence ${i} about the harbour ledgers`).join('. '));

  async function pdPair() {
    const decodeBodies: Array<Record<string, unknown>> = [];
    const prefill = await scriptedUpstream((_req, res, body) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'p', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: '' }, finish_reason: 'length' }], kv_transfer_params: { remote_engine_id: 'P', max_tokens_seen: body.max_tokens } }));
    });
    const decode = await scriptedUpstream((_req, res, body) => {
      decodeBodies.push(body);
      echoCompletion(res, body, 'decode');
    });
    return { prefill, decode, decodeBodies };
  }

  it('separates a request dispatched to a DECODING instance with one slot (its own slot is the decode slot)', async () => {
    const { prefill, decode, decodeBodies } = await pdPair();
    const m = manager({ policy: pinTo('D'), enablePdSeparation: true, pdMinInputTokens: 50, pdMinInputOutputRatio: 0.1 });
    m.registerInstance({ id: 'P', baseUrl: prefill.baseUrl, models: ['m'], type: InstanceType.PREFILLING });
    m.registerInstance({ id: 'D', baseUrl: decode.baseUrl, models: ['m'], type: InstanceType.DECODING, maxConcurrency: 1 });
    const r = await within(m.submit({ ...longAsk(), maxTokens: 16 }));
    expect(r.prefillInstanceId).toBe('P');
    expect(r.instanceId).toBe('D');
    expect(prefill.hits).toBe(1);
    expect(decodeBodies[0].kv_transfer_params).toEqual({ remote_engine_id: 'P', max_tokens_seen: 1 });
    expect(m.getInstances().map((i) => i.load.activeRequests)).toEqual([0, 0]);
  });

  it('sends each engine its own API key on both legs of a separated request', async () => {
    const seen: string[] = [];
    const guard = (who: string, key: string, answer: (res: ServerResponse, body: Record<string, unknown>) => void) =>
      scriptedUpstream((req, res, body) => {
        seen.push(`${who}:${req.headers.authorization ?? 'none'}`);
        if (req.headers.authorization !== `Bearer ${key}`) return jsonError(res, 401, 'bad key');
        answer(res, body);
      });
    const prefill = await guard('P', 'kp', (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'p', object: 'chat.completion', choices: [], kv_transfer_params: { remote_engine_id: 'P' } }));
    });
    const decode = await guard('D', 'kd', (res, body) => echoCompletion(res, body, 'decode'));
    const m = manager({ policy: pinTo('D'), enablePdSeparation: true, pdMinInputTokens: 50, pdMinInputOutputRatio: 0.1 });
    m.registerInstance({ id: 'P', baseUrl: prefill.baseUrl, models: ['m'], type: InstanceType.PREFILLING, apiKey: 'kp' });
    m.registerInstance({ id: 'D', baseUrl: decode.baseUrl, models: ['m'], type: InstanceType.DECODING, apiKey: 'kd' });
    const r = await within(m.submit({ ...longAsk(), maxTokens: 16 }));
    expect(r).toMatchObject({ prefillInstanceId: 'P', instanceId: 'D' });
    expect(seen).toEqual(['P:Bearer kp', 'D:Bearer kd']);
  });

  it('retries a failed prefill on another PREFILLING instance, not on the one that failed', async () => {
    const okPrefill = (res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'p', object: 'chat.completion', choices: [], kv_transfer_params: { remote_engine_id: 'P2' } }));
    };
    const p1 = await scriptedUpstream((_req, res) => jsonError(res, 500, 'prefill crashed'));
    const p2 = await scriptedUpstream((_req, res) => okPrefill(res));
    const decode = await scriptedUpstream((_req, res, body) => echoCompletion(res, body, 'decode'));
    // A router that always takes the first candidate by id: left to itself it would pick P1 every time.
    const firstById: RoutingStrategy = { name: 'first', route: (_r, c) => [...c].sort((a, b) => a.id.localeCompare(b.id))[0] };
    const m = manager({ policy: pinTo('D'), router: firstById, enablePdSeparation: true, pdMinInputTokens: 50, pdMinInputOutputRatio: 0.1, circuitBreaker: { failureThreshold: 5 } });
    m.registerInstance({ id: 'P1', baseUrl: p1.baseUrl, models: ['m'], type: InstanceType.PREFILLING });
    m.registerInstance({ id: 'P2', baseUrl: p2.baseUrl, models: ['m'], type: InstanceType.PREFILLING });
    m.registerInstance({ id: 'D', baseUrl: decode.baseUrl, models: ['m'], type: InstanceType.DECODING });
    const r = await within(m.submit({ ...longAsk(), maxTokens: 16 }));
    expect(r).toMatchObject({ prefillInstanceId: 'P2', instanceId: 'D' });
    expect(p1.hits).toBe(1);
    expect(m.getInstances().map((i) => i.load.activeRequests)).toEqual([0, 0, 0]);
  });

  it('when the decode instance fails after prefill, the request is retried and no slot stays held', async () => {
    let decodeFails = 1;
    const prefill = await scriptedUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'p', object: 'chat.completion', choices: [], kv_transfer_params: { remote_engine_id: 'P' } }));
    });
    const decode = await scriptedUpstream((_req, res, body) => (decodeFails-- > 0 ? jsonError(res, 500, 'decode crashed') : echoCompletion(res, body, 'decode')));
    const m = manager({ policy: pinTo('P'), enablePdSeparation: true, pdMinInputTokens: 50, pdMinInputOutputRatio: 0.1 });
    m.registerInstance({ id: 'P', baseUrl: prefill.baseUrl, models: ['m'], type: InstanceType.PREFILLING });
    m.registerInstance({ id: 'D', baseUrl: decode.baseUrl, models: ['m'], type: InstanceType.DECODING });
    const r = await within(m.submit({ ...longAsk(), maxTokens: 16 }));
    expect(r).toMatchObject({ prefillInstanceId: 'P', instanceId: 'D' });
    expect(prefill.hits).toBe(2);
    expect(decode.hits).toBe(2);
    expect(m.getInstances().map((i) => i.load.activeRequests)).toEqual([0, 0]);
    expect(m.status().running).toBe(0);
  });
});

describe('embedding batches', () => {
  it('a batch is queued at the priority of its most urgent member, never promoted above it', async () => {
    const up = await scriptedUpstream((_req, res, body) => {
      const input = body.input as string[];
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', model: body.model, data: input.map((_, index) => ({ object: 'embedding', index, embedding: [index, input.length] })), usage: { prompt_tokens: 1, total_tokens: 1 } }));
    });
    const seen = new Map<string, number>(); // batch id → priority it was queued at
    const recording: SchedulingPolicy = {
      name: 'recording',
      schedule: (queue, ctx) => {
        for (const r of queue) seen.set(r.id, r.priority);
        return { decisions: queue.map((r) => ({ requestId: r.id, instanceId: ctx.instances[0].id, estimatedLatencyMs: 0, reason: 'first', policy: 'recording' })), rejections: [] };
      },
    };
    const m = manager({ policy: recording, embedding: { maxWaitMs: 20 } });
    m.registerInstance({ id: 'e', baseUrl: up.baseUrl, models: ['e'], type: InstanceType.EMBEDDING });
    const bulk = await within(Promise.all([m.submit({ model: 'e', input: 'a', priority: 'BACKGROUND' }), m.submit({ model: 'e', input: 'b', priority: 'BACKGROUND' })]));
    expect(bulk.map((r) => (r.body.data as Array<{ embedding: number[] }>)[0].embedding)).toEqual([[0, 2], [1, 2]]);
    const mixed = await within(Promise.all([m.submit({ model: 'e', input: 'c', priority: 'LOW' }), m.submit({ model: 'e', input: 'd', priority: 'HIGH' })]));
    expect(mixed).toHaveLength(2);
    // Each member's decision is stated for that member, and names the batch it travelled in.
    for (const r of [...bulk, ...mixed]) expect(r.decision).toMatchObject({ requestId: r.requestId, instanceId: 'e', policy: 'recording' });
    expect(bulk[0].decision.batchId).toBe(bulk[1].decision.batchId);
    expect(mixed[0].decision.batchId).not.toBe(bulk[0].decision.batchId);
    expect([...seen.values()]).toEqual([4, 1]); // BACKGROUND stays BACKGROUND (4); LOW+HIGH goes as HIGH (1)
  });
});

describe('bounded state', () => {
  it('keeps no circuit breaker for an instance that is not registered', async () => {
    const waiting: Array<() => void> = [];
    const up = await scriptedUpstream((_req, res) => waiting.push(() => jsonError(res, 500, 'gone')));
    const m = manager({ maxAttempts: 1 });
    const breakers = () => (m as unknown as { breakers: Map<string, unknown> }).breakers;
    m.registerInstance({ id: 'old', baseUrl: up.baseUrl, models: ['m'] });
    const inFlight = m.submit(ask('x'));
    await until(() => waiting.length === 1);
    m.unregisterInstance('old');
    waiting.splice(0).forEach((f) => f());
    await expect(within(inFlight)).rejects.toBeInstanceOf(UpstreamError);
    m.markHealthy('never-registered');
    expect([...breakers().keys()]).toEqual([]);
  });
});

describe('close()', () => {
  it('settles every request it holds: queued, running, in an open embedding batch, and a stream being read', async () => {
    const up = await scriptedUpstream((_req, res, body) => {
      if (body.stream === true) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        sseChunk(res, 'first'); // then nothing: the stream stays open
      }
      // JSON and embedding requests: never answered
    });
    const m = manager({ embedding: { maxWaitMs: 60_000 } });
    m.registerInstance({ id: 'u', baseUrl: up.baseUrl, models: ['m'], maxConcurrency: 2 });
    m.registerInstance({ id: 'e', baseUrl: up.baseUrl, models: ['e'], type: InstanceType.EMBEDDING });
    const stream = await within(m.submitStream(ask('streaming')));
    const running = m.submit(ask('running'));
    await until(() => up.hits === 2);
    const queued = m.submit(ask('queued'));
    const embedding = m.submit({ model: 'e', input: 'waits for company' });
    await until(() => m.queueLength === 1);
    const reading = (async () => {
      for await (const c of stream) void c;
    })();
    const all = Promise.allSettled([running, queued, embedding, reading]);
    await m.close();
    const outcomes = await within(all);
    for (const o of outcomes) {
      expect(o.status).toBe('rejected');
      if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'request_cancelled', message: 'control plane is shutting down' });
    }
    await expect(m.submit(ask('late'))).rejects.toMatchObject({ code: 'shutting_down', status: 503 });
  });
});
