#!/usr/bin/env node
// What one scheduling decision costs as the queue grows: a ControlPlaneManager (default policy and router) with 64
// instances, every slot taken, and 10, 100 or 1,000 requests queued behind them. Per row it measures
//   dispatch   one slot comes free and the dispatch run places one queued request (queue kept at its length)
//   queue_full a new request refused at admission because the queue is at max_queue_size
//   deadline   a new request refused at admission because its deadline cannot be met behind the queue
// The instances point at an in-process server that takes requests and never answers, so slots stay taken and
// no engine time is measured; a dispatched request still builds its payload and goes out through the executor.
// Dispatch is timed around the manager's dispatch run (a private method, reached here only to time it).
//
//   npm run build && node bench/dispatch-micro.js [--instances 64] [--iterations 2000] [--queues 10,100,1000]
'use strict';
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const { ControlPlaneManager } = require('@sage/llm-core');

const argv = process.argv.slice(2);
const opt = (name, def) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : def);
const INSTANCES = Number(opt('instances', 64));
const ITERATIONS = Number(opt('iterations', 2000));
const QUEUES = opt('queues', '10,100,1000').split(',').map(Number);
const JSON_OUT = argv.includes('--json');

const turn = () => new Promise((r) => setImmediate(r));
const BATCH = 50;

/** Per-operation cost as the median over batches of BATCH operations: a burst of other load moves one batch only. */
class Timing {
  constructor() {
    this.batches = [];
    this.ms = 0;
    this.n = 0;
  }
  add(ms, n = 1) {
    this.ms += ms;
    this.n += n;
    if (this.n >= BATCH) {
      this.batches.push((this.ms * 1000) / this.n);
      this.ms = 0;
      this.n = 0;
    }
  }
  get us() {
    const s = [...this.batches].sort((a, b) => a - b);
    return s.length ? s[Math.floor(s.length / 2)] : NaN;
  }
}
const chat = (extra = {}) => ({ model: 'm', messages: [{ role: 'user', content: 'Summarise the queue in one line, please.' }], maxTokens: 32, ...extra });

/** A server that reads requests and never answers (closed at the end). */
async function blackHole() {
  const sockets = new Set();
  const server = http.createServer(() => undefined);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}/v1`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(r));
    },
  };
}

async function row(upstream, queued) {
  const manager = new ControlPlaneManager({
    instances: Array.from({ length: INSTANCES }, (_, i) => ({ id: `i${i}`, baseUrl: upstream.url, models: ['m'], maxConcurrency: 1 })),
    maxQueueSize: queued,
    // The queue-wait bound must not refuse anything while the row runs.
    maxQueueWaitMs: 0,
  });
  const pending = [];
  const keep = (p) => pending.push(p.catch(() => undefined));
  // Fill every slot, then the queue.
  for (let i = 0; i < INSTANCES + queued; i++) keep(manager.submit(chat()));
  for (let i = 0; i < 5 && manager.queueLength !== queued; i++) await turn();
  if (manager.queueLength !== queued) throw new Error(`expected ${queued} queued, found ${manager.queueLength}`);

  // dispatch: free one slot (as a finished request would), time the run that fills it, queue one more request.
  const dispatch = manager.dispatch.bind(manager);
  const dispatchT = new Timing();
  let placed = 0;
  for (let k = 0; k < ITERATIONS; k++) {
    const id = `i${k % INSTANCES}`;
    manager.registry.end(id);
    const before = manager.queueLength;
    const t0 = performance.now();
    dispatch();
    const ms = performance.now() - t0;
    dispatchT.add(ms, before - manager.queueLength);
    placed += before - manager.queueLength;
    keep(manager.submit(chat()));
    await turn();
  }
  if (manager.queueLength !== queued) throw new Error(`queue drifted to ${manager.queueLength}`);

  // queue_full refusals.
  const fullT = new Timing();
  let refusedFull = 0;
  for (let k = 0; k < ITERATIONS; k++) {
    const t0 = performance.now();
    await manager.submit(chat()).catch((err) => {
      if (err.code === 'queue_full') refusedFull++;
    });
    fullT.add(performance.now() - t0);
  }

  // deadline refusals need room in the queue: a second manager with the same state, max_queue_size above it.
  await manager.close();
  const m2 = new ControlPlaneManager({
    instances: Array.from({ length: INSTANCES }, (_, i) => ({ id: `i${i}`, baseUrl: upstream.url, models: ['m'], maxConcurrency: 1 })),
    maxQueueSize: queued * 2 + 10,
    maxQueueWaitMs: 0,
  });
  for (let i = 0; i < INSTANCES + queued; i++) keep(m2.submit(chat()));
  for (let i = 0; i < 5 && m2.queueLength !== queued; i++) await turn();
  const deadlineT = new Timing();
  let refusedDeadline = 0;
  for (let k = 0; k < ITERATIONS; k++) {
    const t0 = performance.now();
    await m2.submit(chat({ sloDeadlineMs: 1 })).catch((err) => {
      if (err.code === 'deadline_infeasible') refusedDeadline++;
    });
    deadlineT.add(performance.now() - t0);
  }
  await m2.close();
  await Promise.all(pending);
  return {
    queued,
    dispatchUs: dispatchT.us,
    placed,
    queueFullUs: fullT.us,
    refusedFull,
    deadlineUs: deadlineT.us,
    refusedDeadline,
  };
}

async function main() {
  const upstream = await blackHole();
  const rows = [];
  try {
    await row(upstream, QUEUES[0]); // warm-up: JIT
    for (const q of QUEUES) rows.push(await row(upstream, q));
  } finally {
    await upstream.close();
  }
  const first = rows[0];
  const last = rows[rows.length - 1];
  const growth = { dispatch: last.dispatchUs / first.dispatchUs, queueFull: last.queueFullUs / first.queueFullUs, deadline: last.deadlineUs / first.deadlineUs };
  if (JSON_OUT) return void console.log(JSON.stringify({ instances: INSTANCES, iterations: ITERATIONS, rows, growth }, null, 2));
  console.log(`dispatch and refusal cost, ${INSTANCES} instances (all slots taken), ${ITERATIONS} operations per cell, µs each (median of batches of ${BATCH})`);
  console.table(
    rows.map((r) => ({
      queued: r.queued,
      'dispatch µs': r.dispatchUs.toFixed(1),
      'queue_full refusal µs': r.queueFullUs.toFixed(1),
      'deadline refusal µs': r.deadlineUs.toFixed(1),
      'placed / refused': `${r.placed} / ${r.refusedFull} / ${r.refusedDeadline}`,
    })),
  );
  for (const [name, g] of Object.entries(growth)) console.log(`${g <= 2 ? 'PASS' : 'FAIL'}  ${name}: ${g.toFixed(2)}× from ${first.queued} to ${last.queued} queued (target ≤ 2×)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
