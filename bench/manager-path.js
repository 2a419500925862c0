#!/usr/bin/env node
// What the control plane itself costs per JSON request, without the HTTP edge: a ControlPlaneManager (default
// settings: adaptive policy, load-balanced router, estimator, metrics, deadlines) in its own process submits
// requests 32 at a time to the mock upstream (bench/lib/mock-upstream.js) and reads its own CPU time. Finer than
// bench/overhead.js (no load generator, HTTP server or access log in the figure): rounds still move by 2-3 µs on a
// quiet 2-core machine, so an A/B of two builds wants its 8 rounds (the medians then resolve ~1-2 µs). Builds take
// turns A B B A, each round in fresh processes, so neither gains from its place.
//
//   npm run build && node bench/manager-path.js [--base DIR] [--rounds 8] [--requests 80000]
//
// --base DIR adds another build laid out as this repository (DIR/packages/llm-core/dist). 127.0.0.1 only.
'use strict';
const path = require('node:path');
const { spawn } = require('node:child_process');
const { startMock } = require('./lib/targets');

const argv = process.argv.slice(2);
const opt = (name, def) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : def);

if (argv[0] === '--worker') worker(argv[1], Number(argv[2]), Number(argv[3]));
else main();

/** One measurement, in this process: `n` requests after a warm-up of 20,000. */
function worker(root, port, n) {
  const { ControlPlaneManager } = require(path.join(root, 'packages/llm-core/dist/index.js'));
  const manager = new ControlPlaneManager({ engineMetricsPollMs: 0 });
  manager.registerInstance({ id: 'mock', baseUrl: `http://127.0.0.1:${port}/v1`, models: ['mock-model'], maxConcurrency: 64 });
  const loop = async (count) => {
    let left = count;
    const one = async () => {
      while (left-- > 0) {
        const res = await manager.submit({ model: 'mock-model', messages: [{ role: 'user', content: 'Hello! Say something short.' }], maxTokens: 16, signal: new AbortController().signal });
        if (!res.rawBody) throw new Error('an answer without its body');
      }
    };
    await Promise.all(Array.from({ length: 32 }, one));
  };
  (async () => {
    await loop(20_000);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await loop(n);
    const cpu = process.cpuUsage(cpu0);
    const ms = performance.now() - t0;
    process.stdout.write(`${JSON.stringify({ userUs: cpu.user / n, sysUs: cpu.system / n, perSec: (n / ms) * 1000 })}\n`);
    await manager.close();
    process.exit(0);
  })().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

function run(root, port, n) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, '--worker', root, String(port), String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`worker for ${root} exited ${code}`))));
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

async function main() {
  const builds = [{ name: 'this build', root: path.resolve(__dirname, '..') }];
  if (opt('base')) builds.push({ name: 'base', root: path.resolve(opt('base')) });
  const rounds = Number(opt('rounds', 8));
  const n = Number(opt('requests', 80_000));
  const mock = await startMock({ chunks: 32 });
  const port = Number(new URL(mock.url).port);
  const seen = new Map(builds.map((b) => [b.name, []]));
  try {
    for (let r = 0; r < rounds; r++) {
      // A B, then B A: each build is as often first as second.
      const order = r % 2 === 0 ? builds : [...builds].reverse();
      for (const b of order) {
        const m = await run(b.root, port, n);
        seen.get(b.name).push(m);
        console.error(`round ${r + 1} ${b.name}: ${(m.userUs + m.sysUs).toFixed(1)} µs CPU/request (user ${m.userUs.toFixed(1)}, system ${m.sysUs.toFixed(1)}), ${m.perSec.toFixed(0)} requests/s`);
      }
    }
  } finally {
    await mock.stop();
  }
  console.log(`manager path, ${n} JSON requests at 32 concurrent per round, ${rounds} rounds, median per build:`);
  for (const [name, ms] of seen) {
    console.log(`  ${name.padEnd(10)} ${median(ms.map((m) => m.userUs + m.sysUs)).toFixed(1)} µs CPU/request (user ${median(ms.map((m) => m.userUs)).toFixed(1)}), ${median(ms.map((m) => m.perSec)).toFixed(0)} requests/s`);
  }
}
