#!/usr/bin/env node
// Embedding batching (F-206): N concurrent one-text embedding requests through the control plane,
// once with batching (maxEmbeddingWaitMs 50, batch 32) and once with each request sent alone, against the
// same real sim-embedding engine (whose per-batch cost model makes a batch far cheaper than its texts one by
// one, as on a GPU). Prints wall time, requests/s, latency percentiles and the engine's own request count.
//
//   npm run build && node bench/embedding-batching.js [--requests 400] [--time-scale 1]
'use strict';
const { performance } = require('node:perf_hooks');
const { ControlPlaneManager } = require('@sage/llm-core');
const { launchSimEngine } = require('@sage/llm-core/testing');

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const N = arg('requests', 400);
const TIME_SCALE = arg('time-scale', 1);

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function engineRequests(engine) {
  const text = await (await fetch(`http://127.0.0.1:${engine.port}/metrics`)).text();
  // Requests the engine served: the count of its request-latency histogram.
  const m = /^sage_sim:embedding_request_latency_seconds_count(?:\{[^}]*\})? ([0-9.e+]+)/m.exec(text);
  return m ? Number(m[1]) : 0; // no line until the first request
}

async function runOne(engine, batching) {
  const manager = new ControlPlaneManager({
    policy: 'fifo',
    embedding: batching ? { maxWaitMs: 50, batchSize: 32 } : { enabled: false },
    instances: [{ id: 'emb', baseUrl: engine.baseUrl, models: ['bench-embed'], type: 'EMBEDDING', maxConcurrency: 8 }],
  });
  const before = await engineRequests(engine);
  const lat = [];
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: N }, async (_, i) => {
      const s = performance.now();
      try {
        await manager.submit({ model: 'bench-embed', input: `document number ${i} about topic ${i % 17}` });
      } catch {
        failed++;
      }
      lat.push(performance.now() - s);
    }),
  );
  const wall = performance.now() - t0;
  const after = await engineRequests(engine);
  await manager.close();
  lat.sort((a, b) => a - b);
  return {
    mode: batching ? 'batched (50 ms, 32)' : 'unbatched',
    'wall ms': wall.toFixed(0),
    'req/s': ((N / wall) * 1000).toFixed(0),
    'p50 ms': pct(lat, 50).toFixed(1),
    'p99 ms': pct(lat, 99).toFixed(1),
    'engine calls': after - before,
    failed,
  };
}

async function main() {
  const engine = await launchSimEngine({ kind: 'sim-embedding', model: 'bench-embed', timeScale: TIME_SCALE, extraArgs: ['--max-concurrent', '64'] });
  try {
    const rows = [await runOne(engine, false), await runOne(engine, true)];
    console.log(`embedding batching: ${N} concurrent one-text requests, sim-embedding at time scale ${TIME_SCALE}`);
    console.table(rows);
    console.log(`throughput gain from batching: ${(Number(rows[1]['req/s']) / Number(rows[0]['req/s'])).toFixed(1)}x`);
  } finally {
    await engine.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
