#!/usr/bin/env node
// Control-plane overhead: the same chat request sent straight to a sim-llm engine and through the control
// plane (validation, queue, policy, routing, executor), at concurrency 1 and 32. Bounded: N requests per
// cell, 127.0.0.1 only. The engine runs at a tiny time scale so model time is near zero and the
// difference is the control plane's own cost. Run after `npm run build`: node bench/server-overhead.js [N]
'use strict';
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { Agent, request } = require('undici');
const { startControlPlaneServer } = require('@sage/llm-core');

const N = Number(process.argv[2] ?? 600);
const STREAMS = 60;
const body = JSON.stringify({ model: 'sage-sim-llm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 });

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function run(url, concurrency, count, dispatcher) {
  const lat = [];
  let next = 0;
  let failed = 0;
  const t0 = performance.now();
  async function worker() {
    while (next < count) {
      next++;
      const s = performance.now();
      const res = await request(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, dispatcher });
      await res.body.text();
      if (res.statusCode !== 200) failed++;
      lat.push(performance.now() - s);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return { p50: pct(lat, 50), p99: pct(lat, 99), rps: count / secs, failed };
}

/** Time to the first content chunk of a streamed chat answer, ms. */
async function ttft(url, dispatcher) {
  const s = performance.now();
  const res = await request(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'sage-sim-llm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 8, stream: true }),
    dispatcher,
  });
  let first;
  for await (const chunk of res.body) {
    if (first === undefined && String(chunk).includes('"content"')) first = performance.now() - s;
  }
  return first ?? NaN;
}

async function main() {
  const sageHome = mkdtempSync(path.join(tmpdir(), 'sage-bench-'));
  const base = 30000 + Math.floor(Math.random() * 500) * 40;
  const cp = await startControlPlaneServer({
    port: 0,
    auth: { apiKeys: [] },
    policy: 'fifo',
    runtime: { sageHome, simTimeScale: 0.001, portRanges: { llm: { start: base, end: base + 10 }, embedding: { start: base + 11, end: base + 20 }, fallback: { start: base + 21, end: base + 39 } } },
  });
  // Let the scheduler admit as many concurrent requests as the engine can take.
  const engine = cp.runtime.engines.listEngines().find((e) => e.category === 'llm');
  const direct = `http://127.0.0.1:${engine.port}`;
  const dispatcher = new Agent({ connections: 64, keepAliveTimeout: 30_000 });
  const rows = [];
  const streamRows = [];
  const memory = { before: process.memoryUsage().rss, peak: 0, after: 0 };
  const sampler = setInterval(() => (memory.peak = Math.max(memory.peak, process.memoryUsage().rss)), 50);
  try {
    for (const [name, url] of [['direct engine', direct], ['control plane', cp.url]]) await run(url, 8, 100, dispatcher); // warm-up
    for (const concurrency of [1, 32]) {
      for (const [name, url] of [['direct engine', direct], ['control plane', cp.url]]) {
        const r = await run(url, concurrency, N, dispatcher);
        rows.push({ target: name, concurrency, 'p50 ms': r.p50.toFixed(2), 'p99 ms': r.p99.toFixed(2), 'req/s': r.rps.toFixed(0), failed: r.failed });
      }
    }
    for (const [name, url] of [['direct engine', direct], ['control plane', cp.url]]) {
      const t = [];
      for (let i = 0; i < STREAMS; i++) t.push(await ttft(url, dispatcher));
      t.sort((a, b) => a - b);
      streamRows.push({ target: name, 'TTFT p50 ms': pct(t, 50).toFixed(2), 'TTFT p99 ms': pct(t, 99).toFixed(2) });
    }
    memory.after = process.memoryUsage().rss;
  } finally {
    await dispatcher.close();
    await cp.close(2000);
    rmSync(sageHome, { recursive: true, force: true });
    clearInterval(sampler);
  }
  console.log(`control-plane overhead, ${N} requests per row, chat max_tokens=1, sim-llm at time scale 0.001`);
  console.table(rows);
  for (const c of [1, 32]) {
    const d = rows.find((r) => r.target === 'direct engine' && r.concurrency === c);
    const p = rows.find((r) => r.target === 'control plane' && r.concurrency === c);
    console.log(`concurrency ${c}: added p50 ${(p['p50 ms'] - d['p50 ms']).toFixed(2)} ms, added p99 ${(p['p99 ms'] - d['p99 ms']).toFixed(2)} ms`);
  }
  console.log(`\nstreaming time to first token, ${STREAMS} sequential streams each`);
  console.table(streamRows);
  const mb = (b) => (b / 1024 / 1024).toFixed(0);
  console.log(`memory of this process (control plane + load generator): rss ${mb(memory.before)} MB before, ${mb(memory.peak)} MB peak under load, ${mb(memory.after)} MB after`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
