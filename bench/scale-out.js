#!/usr/bin/env node
// Scale-out: two control-plane replicas (child processes) in front of the same two sim-llm engines
// (maxConcurrency 4 each), the load split evenly across the replicas. Prints, without and with a shared Redis
// state store: throughput, p50/p99, and each engine's peak running requests against its maxConcurrency; the
// store's own cost per request (one replica, one request at a time, local against Redis); and how long the
// slots of a SIGKILLed replica take to come back to the other one. Needs redis-server (tools/ensure-redis.sh)
// and `npm run build`. Bounded: N requests per cell, 127.0.0.1 only.  node bench/scale-out.js [N]
'use strict';
const { spawn } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const net = require('node:net');
const { tmpdir } = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { createInterface } = require('node:readline');
const { Agent, request } = require('undici');
const { launchSimEngine, parseEngineMetrics } = require('@sage/llm-core');

const N = Number(process.argv[2] ?? 240);
const CONCURRENCY_PER_REPLICA = 16;
const MAX = 4;
const MODEL = 'bench-llm';
const dispatcher = new Agent({ connections: 128, keepAliveTimeout: 30_000 });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startRedis() {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], { stdio: 'ignore' });
  child.once('error', (e) => {
    console.error(`redis-server could not be started (${e.message}); install it: bash tools/ensure-redis.sh`);
    process.exit(1);
  });
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((resolve) => {
      const sock = net.connect({ port, host: '127.0.0.1' });
      sock.once('error', () => resolve(false));
      sock.once('data', (d) => {
        sock.destroy();
        resolve(String(d).includes('PONG'));
      });
      sock.write('PING\r\n');
    });
    // Each phase uses its own database: backends outlive the replicas that registered them.
    if (ok) return { db: (n) => `redis://127.0.0.1:${port}/${n}`, stop: () => new Promise((r) => (child.once('exit', r), child.kill('SIGTERM'))) };
    await sleep(50);
  }
  throw new Error('redis-server did not answer');
}

/** A replica: startControlPlaneServer in its own process, no engines of its own. */
async function startReplica(stateStore) {
  const sageHome = mkdtempSync(path.join(tmpdir(), 'sage-bench-replica-'));
  const script = `
    const { startControlPlaneServer } = require('@sage/llm-core');
    startControlPlaneServer({ port: 0, preset: false, policy: 'fifo', auth: { apiKeys: [] }, stateStore: process.argv[1], runtime: { sageHome: process.argv[2] } })
      .then((cp) => { console.log(JSON.stringify({ url: cp.url })); process.once('SIGTERM', () => cp.close(2000).then(() => process.exit(0))); })
      .catch((e) => { console.error(e); process.exit(1); });`;
  const child = spawn(process.execPath, ['-e', script, stateStore, sageHome], { stdio: ['ignore', 'pipe', 'inherit'], cwd: __dirname });
  const url = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line).url));
    child.once('exit', (code) => reject(new Error(`replica exited with ${code}`)));
  });
  child.stdout.resume();
  const exited = new Promise((r) => child.once('exit', r));
  const end = async (signal) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      await exited;
    }
    rmSync(sageHome, { recursive: true, force: true });
  };
  return { url, kill: () => end('SIGKILL'), stop: () => end('SIGTERM') };
}

async function post(url, body) {
  const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), dispatcher });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${url}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
  return text;
}

const register = (replica, engine, id) => post(`${replica.url}/v1/management/engines/register`, { baseUrl: engine.baseUrl, models: [MODEL], kind: 'llm', maxConcurrency: MAX, id });

/** One streamed chat; resolves with { ms, firstMs }. */
async function stream(replica, maxTokens, onFirst) {
  const s = performance.now();
  const res = await request(`${replica.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Say something about replicas.' }], max_tokens: maxTokens, stream: true }),
    dispatcher,
  });
  if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${await res.body.text()}`);
  let firstMs;
  for await (const _chunk of res.body) {
    if (firstMs === undefined) {
      firstMs = performance.now() - s;
      onFirst?.();
    }
  }
  return { ms: performance.now() - s, firstMs };
}

/** Highest vllm:num_requests_running per engine, sampled every 50 ms while `fn` runs. */
async function withPeaks(engines, fn) {
  const peaks = engines.map(() => 0);
  let stop = false;
  const sampler = (async () => {
    while (!stop) {
      await Promise.all(
        engines.map(async (e, i) => {
          const res = await request(`${e.baseUrl.replace(/\/v1$/, '')}/metrics`, { dispatcher }).catch(() => undefined);
          if (!res) return;
          const running = parseEngineMetrics(await res.body.text()).running ?? 0;
          peaks[i] = Math.max(peaks[i], running);
        }),
      );
      await sleep(50);
    }
  })();
  const out = await fn();
  stop = true;
  await sampler;
  return { ...out, peaks };
}

async function load(replicas, engines, count, maxTokens) {
  return withPeaks(engines, async () => {
    const lat = [];
    let failed = 0;
    const t0 = performance.now();
    await Promise.all(
      replicas.map(async (replica) => {
        let next = 0;
        const share = count / replicas.length;
        await Promise.all(
          Array.from({ length: CONCURRENCY_PER_REPLICA }, async () => {
            while (next < share) {
              next++;
              try {
                lat.push((await stream(replica, maxTokens)).ms);
              } catch {
                failed++;
              }
            }
          }),
        );
      }),
    );
    const secs = (performance.now() - t0) / 1000;
    lat.sort((x, y) => x - y);
    return { rps: lat.length / secs, p50: pct(lat, 50), p99: pct(lat, 99), failed };
  });
}

/** One replica, one request at a time: what the store adds to each request (acquire and release). */
async function overhead(engine, stateStore, count) {
  const replica = await startReplica(stateStore);
  try {
    await register(replica, engine, 'solo');
    for (let i = 0; i < 20; i++) await stream(replica, 1); // warm-up
    const lat = [];
    for (let i = 0; i < count; i++) lat.push((await stream(replica, 1)).ms);
    lat.sort((x, y) => x - y);
    return { p50: pct(lat, 50), p99: pct(lat, 99) };
  } finally {
    await replica.stop();
  }
}

async function killRecovery(redisUrl, engines) {
  const [a, b] = await Promise.all([startReplica(redisUrl), startReplica(redisUrl)]);
  try {
    for (const [i, e] of engines.entries()) await register(a, e, `engine-${i}`);
    await sleep(300);
    const slots = engines.length * MAX;
    const held = Array.from({ length: slots }, () => stream(a, 2000).catch(() => undefined));
    await sleep(1500); // A holds every slot
    const started = [];
    const waiting = Array.from({ length: slots }, () => stream(b, 8, () => started.push(performance.now())).catch(() => undefined));
    await sleep(500);
    const queuedBeforeKill = slots - started.length;
    const killedAt = performance.now();
    await a.kill();
    const deadline = killedAt + 15_000;
    while (started.length < slots && performance.now() < deadline) await sleep(10);
    await Promise.all(waiting);
    await Promise.allSettled(held);
    return { slots, queuedBeforeKill, recoveredMs: started.length === slots ? Math.max(...started) - killedAt : NaN };
  } finally {
    await Promise.allSettled([a.stop(), b.stop()]);
  }
}

async function main() {
  const redis = await startRedis();
  const engines = await Promise.all([0, 1].map(() => launchSimEngine({ kind: 'sim-llm', model: MODEL, timeScale: 0.2 })));
  const rows = [];
  try {
    for (const [name, store] of [
      ['local state (each replica its own)', 'local'],
      ['shared Redis state store', redis.db(0)],
    ]) {
      const replicas = await Promise.all([startReplica(store), startReplica(store)]);
      try {
        // Without a store each replica registers the engines itself; with one, registering through A serves both.
        for (const r of store === 'local' ? replicas : replicas.slice(0, 1)) for (const [i, e] of engines.entries()) await register(r, e, `engine-${i}`);
        await sleep(300);
        await load(replicas, engines, 32, 16); // warm-up
        const r = await load(replicas, engines, N, 32);
        rows.push({ name, ...r });
      } finally {
        await Promise.allSettled(replicas.map((x) => x.stop()));
      }
    }
    const local = await overhead(engines[0], 'local', 200);
    const shared = await overhead(engines[0], redis.db(1), 200);
    const kill = await killRecovery(redis.db(2), engines);

    console.log(`\nscale-out: 2 replicas, 2 sim-llm engines (maxConcurrency ${MAX} each), ${N} streamed chats (32 tokens) split across the replicas,`);
    console.log(`${CONCURRENCY_PER_REPLICA} concurrent per replica; 127.0.0.1; on a shared 2-core machine, so absolute figures vary from run to run\n`);
    console.log('mode                                   req/s    p50 ms    p99 ms   failed   peak running per engine (max ' + MAX + ')');
    for (const r of rows) {
      console.log(`${r.name.padEnd(36)} ${r.rps.toFixed(1).padStart(7)} ${r.p50.toFixed(0).padStart(9)} ${r.p99.toFixed(0).padStart(9)} ${String(r.failed).padStart(8)}   ${r.peaks.join(', ')}`);
    }
    console.log(`\nstore cost per request (1 replica, 1 request at a time, 1 token): local p50 ${local.p50.toFixed(2)} ms, p99 ${local.p99.toFixed(2)} ms;` + ` Redis p50 ${shared.p50.toFixed(2)} ms, p99 ${shared.p99.toFixed(2)} ms (+${(shared.p50 - local.p50).toFixed(2)} ms at p50)`);
    console.log(`killed replica: ${kill.slots} slots held by A, ${kill.queuedBeforeKill} requests waiting on B; A SIGKILLed -> B runs all ${kill.slots} after ${kill.recoveredMs.toFixed(0)} ms (lease TTL 3000 ms)\n`);
  } finally {
    await Promise.allSettled(engines.map((e) => e.stop()));
    await redis.stop();
    await dispatcher.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
