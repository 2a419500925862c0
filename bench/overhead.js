#!/usr/bin/env node
// What sage costs per request, beside the floor and the Portkey gateway, in one run. A mock upstream that answers
// at once (bench/lib/mock-upstream.js) sits behind each relay, so the relay's own cost is all that is measured:
//
//   upstream (mock)        the mock itself, for reference
//   pass-through (floor)   fastify + undici: parse JSON, forward, return (bench/lib/pass-through.js)
//   sage                   `sage inference start --llm-backend MOCK` with default settings, every feature on
//   Portkey gateway        npm @portkey-ai/gateway, provider openai with the mock as custom host
//
// Each runs in its own process; the load comes from this one (autocannon for non-streaming chat at 1 and 32
// connections, undici for streamed chat). Every figure is the best of --rounds rounds (the machine may be shared);
// CPU ms per request is read from /proc and is the least sensitive to other load. Bounded in time, 127.0.0.1 only.
//
//   npm run build && node bench/overhead.js [--duration 5] [--rounds 3] [--streams 100] [--chunks 32]
//        [--targets floor,sage,portkey] [--profile DIR] [--markdown] [--json] [--sage-base DIR]
//
// --profile DIR writes a CPU profile of sage there (read it with bench/lib/profile-top.js); --sage-base DIR adds
// "sage (base)", the CLI of another build laid out as this repository (DIR/packages/cli/dist), to compare two builds
// in one run. The relays take turns: each round starts one place further along the list (the mock stays first),
// because the place in a round moves the figures (the relay measured right after another one finds the machine
// in another state) and best-of-rounds should not favour one relay by its place.
'use strict';
const { closedLoop, streams, mean, pct } = require('./lib/load');
const { cpuMsOf, machine } = require('./lib/processes');
const { startMock, startPassThrough, startSage, startPortkey } = require('./lib/targets');

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(require('node:fs').readFileSync(__filename, 'utf8').split('\n').slice(1).filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n'));
  process.exit(0);
}
const opt = (name, def) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : def);
const DURATION = Number(opt('duration', 5));
const ROUNDS = Number(opt('rounds', 3));
const STREAMS = Number(opt('streams', 100));
const CHUNKS = Number(opt('chunks', 32));
const WANTED = opt('targets', 'floor,sage,portkey').split(',');
const PROFILE = opt('profile', undefined);
const SAGE_BASE = opt('sage-base', undefined);
const MARKDOWN = argv.includes('--markdown');
const JSON_OUT = argv.includes('--json');
const log = (...a) => (JSON_OUT ? undefined : console.error(...a));

async function main() {
  const env = machine();
  log(`overhead benchmark: ${env.date}, ${env.cpu}, ${env.memory}, node ${env.node}, load average ${env.load}`);
  const started = [];
  const results = {};
  try {
    const mock = await startMock({ chunks: CHUNKS });
    started.push(mock);
    const upstream = mock.url;
    const targets = [mock];
    if (WANTED.includes('floor')) targets.push(await startPassThrough(upstream));
    if (WANTED.includes('sage')) targets.push(await startSage(upstream, { nodeArgs: PROFILE ? ['--cpu-prof', '--cpu-prof-dir', PROFILE] : [] }));
    if (SAGE_BASE) targets.push(await startSage(upstream, { root: SAGE_BASE, name: 'sage (base)' }));
    if (WANTED.includes('portkey')) targets.push(await startPortkey(upstream));
    started.push(...targets.slice(1));
    for (const t of targets) results[t.name] = { c1: undefined, c32: undefined, stream: undefined };

    // Every code path hot (JIT-compiled) before anything counts: a number of requests, not a time, as a busy
    // machine would otherwise warm the slower targets less.
    log('warming up');
    for (const t of targets) {
      await closedLoop(t, { connections: 32, amount: 5000 });
      await closedLoop(t, { connections: 1, amount: 500 });
      await streams(t, { count: 20 });
    }
    for (let round = 1; round <= ROUNDS; round++) {
      const order = inTurn(targets, round);
      for (const c of [1, 32]) {
        for (const t of order) {
          const cpu0 = cpuMsOf(t.child.pid);
          const r = await closedLoop(t, { connections: c, durationSec: DURATION });
          r.cpuMsPerReq = (cpuMsOf(t.child.pid) - cpu0) / Math.max(1, r.requests);
          const key = `c${c}`;
          if (!results[t.name][key] || r.rps > results[t.name][key].rps) results[t.name][key] = r;
          log(`round ${round} c=${c} ${t.name}: ${r.rps.toFixed(0)} req/s, mean ${r.meanMs.toFixed(3)} ms, p99 ${r.p99Ms} ms, ${(r.cpuMsPerReq * 1000).toFixed(0)} µs CPU/req${r.failed ? `, ${r.failed} FAILED` : ''}`);
        }
      }
      for (const t of order) {
        const s = await streams(t, { count: STREAMS });
        const r = { ttftMean: mean(s.ttft), ttftP50: pct(s.ttft, 50), ttftP99: pct(s.ttft, 99), lagMean: mean(s.lag), failed: s.failed };
        const best = results[t.name].stream;
        // TTFT and per-chunk delay each from their best round.
        results[t.name].stream = best
          ? { ...(r.ttftMean < best.ttftMean ? { ttftMean: r.ttftMean, ttftP50: r.ttftP50, ttftP99: r.ttftP99 } : best), lagMean: Math.min(r.lagMean, best.lagMean), failed: best.failed + r.failed }
          : r;
        log(`round ${round} streams ${t.name}: TTFT mean ${r.ttftMean.toFixed(3)} ms, per-chunk delay ${r.lagMean.toFixed(4)} ms (clock offset included)${s.failed ? `, ${s.failed} FAILED` : ''}`);
      }
    }
  } finally {
    for (const t of started.reverse()) await t.stop().catch(() => undefined);
  }
  report(env, results);
}

/** The targets in round `round`'s order: the mock first, then the relays rotated by one place per round. */
function inTurn(targets, round) {
  const [mock, ...relays] = targets;
  const k = relays.length ? (round - 1) % relays.length : 0;
  return [mock, ...relays.slice(k), ...relays.slice(0, k)];
}

function report(env, results) {
  const floor = results['pass-through (floor)'];
  const sage = results.sage;
  const portkey = results['Portkey gateway'];
  const ratio = (a, b) => (a && b ? a / b : NaN);
  const checks = [];
  if (sage && floor) {
    checks.push(['c=32 sage throughput ≥ 0.5× the floor', ratio(sage.c32.rps, floor.c32.rps), (v) => v >= 0.5, (v) => `${v.toFixed(2)}×`]);
    checks.push(['c=1 sage adds ≤ 0.25 ms mean over the floor', sage.c1.meanMs - floor.c1.meanMs, (v) => v <= 0.25, (v) => `${v.toFixed(3)} ms`]);
    checks.push(['streaming TTFT added ≤ 0.5 ms', sage.stream.ttftMean - floor.stream.ttftMean, (v) => v <= 0.5, (v) => `${v.toFixed(3)} ms`]);
    checks.push(['per-chunk delay added ≤ 0.05 ms mean', sage.stream.lagMean - floor.stream.lagMean, (v) => v <= 0.05, (v) => `${v.toFixed(4)} ms`]);
  }
  if (sage && portkey) checks.push(['c=32 sage throughput ≥ 10× Portkey', ratio(sage.c32.rps, portkey.c32.rps), (v) => v >= 10, (v) => `${v.toFixed(1)}×`]);

  if (JSON_OUT) {
    console.log(JSON.stringify({ machine: env, rounds: ROUNDS, durationSec: DURATION, streams: STREAMS, chunks: CHUNKS, results, checks: checks.map(([name, v, ok]) => ({ name, value: v, pass: ok(v) })) }, null, 2));
    return;
  }
  const f = (v, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '—');
  const rows = Object.entries(results).map(([name, r]) => ({
    target: name,
    'c=1 req/s': f(r.c1?.rps, 0),
    'c=1 mean ms': f(r.c1?.meanMs, 3),
    'c=32 req/s': f(r.c32?.rps, 0),
    'c=32 p50 ms': f(r.c32?.p50Ms, 0),
    'c=32 p99 ms': f(r.c32?.p99Ms, 0),
    'CPU µs/req': f((r.c32?.cpuMsPerReq ?? NaN) * 1000, 0),
    'TTFT mean ms': f(r.stream?.ttftMean, 3),
    // Relative to the mock read directly, which takes the clock offset between processes out.
    'per-chunk delay ms': f(r.stream?.lagMean - (results['upstream (mock)'].stream?.lagMean ?? NaN), 4),
    'x floor (c=32)': floor ? f(ratio(r.c32?.rps, floor.c32.rps), 2) : '—',
    'x Portkey (c=32)': portkey ? f(ratio(r.c32?.rps, portkey.c32.rps), 1) : '—',
    failed: (r.c1?.failed ?? 0) + (r.c32?.failed ?? 0) + (r.stream?.failed ?? 0),
  }));
  const head = `${env.date} · ${env.cpu} · ${env.memory} · node ${env.node} · load average at start ${env.load} · best of ${ROUNDS} rounds of ${DURATION} s; ${STREAMS} streams of ${CHUNKS} chunks 1 ms apart`;
  if (MARKDOWN) {
    const cols = Object.keys(rows[0]);
    console.log(head + '\n');
    console.log(`| ${cols.join(' | ')} |\n|${cols.map(() => '---').join('|')}|`);
    for (const r of rows) console.log(`| ${cols.map((c) => r[c]).join(' | ')} |`);
    console.log('');
    for (const [name, v, ok, show] of checks) console.log(`- ${ok(v) ? 'met' : 'NOT met'}: ${name} (${show(v)})`);
    return;
  }
  console.log(head);
  console.table(rows);
  for (const [name, v, ok, show] of checks) console.log(`${ok(v) ? 'PASS' : 'FAIL'}  ${name}: ${show(v)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
