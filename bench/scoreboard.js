#!/usr/bin/env node
// The scheduling scoreboard: every policy (and, on the prefix workload, every router) on the same seeded
// workloads, in one run, against real sim-llm / sim-embedding engines (child processes) and a control plane in
// its own process. One table per workload: per-class attainment (a 200 within its deadlines), goodput
// (completions within SLO per second), refusals (and false refusals from a shadow-mode run), TTFT p50/p99,
// e2e p99, and the estimator's median absolute error.
//
//   npm run build && node bench/scoreboard.js [--workloads priority,overload,storm,prefix,mixed,estimator]
//        [--policies fifo,priority,…] [--routers round_robin,prefix_aware,…] [--shadow-policies auto|cost_optimized,…] [--scale 1] [--seed 7]
//        [--json-out FILE] [--html-out FILE]
//
// --scale multiplies every duration (0.5 for a quick look). All traffic goes to 127.0.0.1, bounded in time.
/* global require, process, console, __dirname, performance, setTimeout, fetch, AbortSignal */
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS script run with node */
const { spawn } = require('node:child_process');
const { readFileSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { launchSimEngine } = require('@sage/llm-core/testing');
const { rng, words, between, poisson, openLoop, closedLoop, warmUp, score, quantile, sleep } = require('./scoreboard/load');
const { renderHtml } = require('./scoreboard/chart');

const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : def;
};
const ALL = ['priority', 'overload', 'storm', 'prefix', 'mixed', 'estimator'];
const SELECTED = opt('workloads', ALL.join(',')).split(',').filter(Boolean);
for (const w of SELECTED) if (!ALL.includes(w)) throw new Error(`unknown workload "${w}"; valid: ${ALL.join(', ')}`);
const SCALE = Number(opt('scale', '1'));
const SEED = Number(opt('seed', '7'));
const POLICIES = opt('policies', 'fifo,priority,slo_aware,cost_optimized,adaptive,hybrid').split(',');
const ROUTERS = opt('routers', 'round_robin,load_balanced,affinity,locality,topology_aware,prefix_aware').split(',');
const MODEL = 'sage-sim-llm';
const EMBED_MODEL = 'sage-sim-embedding';
const sec = (s) => Math.round(s * 1000 * SCALE);

// ---------------------------------------------------------------- processes

async function engines(specs) {
  return Promise.all(specs.map((s) => launchSimEngine({ kind: s.kind ?? 'sim-llm', model: s.model ?? MODEL, timeScale: s.timeScale, extraArgs: s.args, logLevel: 'warn' })));
}
const stopAll = (list) => Promise.all(list.map((e) => e.stop()));

/**
 * Fresh engines for one run: the simulators cache prompt prefixes, and every policy is sent the same seeded
 * prompts, so engines kept from the run before would serve later policies from a warm cache.
 */
async function withEngines(specs, backendsOf, fn) {
  const list = await engines(specs);
  try {
    return await fn(backendsOf(list));
  } finally {
    await stopAll(list);
  }
}

function controlPlane(cfg) {
  // SCOREBOARD_CP_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the control plane of each run.
  const nodeArgs = (process.env.SCOREBOARD_CP_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, path.join(__dirname, 'scoreboard', 'control-plane-child.js'), JSON.stringify(cfg)], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      child.stdout.off('data', onData);
      const { url } = JSON.parse(buf.slice(0, nl));
      resolve({
        url,
        pid: child.pid,
        stop: () =>
          new Promise((res) => {
            if (child.exitCode !== null) return res();
            child.once('exit', () => res());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 5000).unref();
          }),
      });
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`control plane exited with ${code} before listening`)));
  });
}

async function getJson(url) {
  const res = await fetch(url);
  return res.json();
}

/** A counter or gauge of an engine's Prometheus text, summed over its labels. */
function metricValue(text, name) {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && m[1] === name) sum += Number(m[3]) || 0;
  }
  return sum;
}

/** Median over the instances of the estimator's e2e error (null until some instance is past its warm-up). */
function estimatorError(m) {
  const v = Object.values(m.estimator ?? {}).map((a) => a.e2eMdape).filter((x) => typeof x === 'number');
  return quantile(v, 0.5);
}

/** Polls /health during a run: how long the control plane takes to answer while it is loaded. */
function healthProbe(url) {
  const times = [];
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      const t0 = performance.now();
      try {
        await fetch(`${url}/health`, { signal: AbortSignal.timeout(10_000) });
      } catch {
        /* counted by its time */
      }
      times.push(performance.now() - t0);
      await sleep(250);
    }
  })();
  return async () => {
    stop = true;
    await loop;
    return quantile(times, 0.99);
  };
}

// ---------------------------------------------------------------- formatting

const pct = (n, d) => (d > 0 ? `${((100 * n) / d).toFixed(1)}` : '-');
const ms = (v) => (v === null || v === undefined ? '-' : String(Math.round(v)));
const num = (v, digits = 1) => (v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits));
const err = (v) => (v === null || v === undefined ? '-' : `${(100 * v).toFixed(1)}%`);
const refusalText = (r) => Object.entries(r).map(([k, v]) => `${v} ${k}`).join(', ') || '0';

function printTable(t) {
  console.log(`\n## ${t.title}\n`);
  if (t.subtitle) console.log(`${t.subtitle}\n`);
  const rows = [t.columns, ...t.rows.map((r) => r.map(String))];
  const widths = t.columns.map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r) => `| ${r.map((v, c) => v.padEnd(widths[c])).join(' | ')} |`;
  console.log(line(rows[0]));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows.slice(1)) console.log(line(r));
  for (const n of t.notes ?? []) console.log(`\n${n}`);
}

// ---------------------------------------------------------------- workloads

const CLASSES = [
  { cls: 'HIGH', priority: 'high', sloMs: 3000, share: 0.2 },
  { cls: 'NORMAL', priority: 'normal', sloMs: 10_000, share: 0.6 },
  { cls: 'LOW', priority: 'low', sloMs: 60_000, share: 0.2 },
];

function chatJob(r, { minWords, maxWords, minTokens, maxTokens, stream = true, system }) {
  const messages = [];
  if (system) messages.push({ role: 'system', content: system });
  messages.push({ role: 'user', content: words(r, between(r, minWords, maxWords)) });
  const body = { model: MODEL, messages, max_tokens: between(r, minTokens, maxTokens), stream };
  if (stream) body.stream_options = { include_usage: true };
  return { body };
}

function priorityJob(r) {
  const u = r();
  let acc = 0;
  const c = CLASSES.find((k) => (acc += k.share) > u) ?? CLASSES[1];
  return { ...chatJob(r, { minWords: 50, maxWords: 1250, minTokens: 16, maxTokens: 128 }), cls: c.cls, priority: c.priority, sloMs: c.sloMs };
}

/** Completions per second at `connections` closed-loop clients, after the first quarter of the run. */
async function capacity(backends, make, connections, durationMs, scheduler, rate = (results) => score(results, durationMs, durationMs / 4).completionsPerSec) {
  const cp = await controlPlane({ policy: 'fifo', router: 'load_balanced', backends, scheduler });
  try {
    await warmUp(cp.url, make);
    const run = await closedLoop(cp.url, make, connections, durationMs);
    return rate(run.results);
  } finally {
    await cp.stop();
  }
}

/**
 * Policies given a shadow-mode run in the priority workload (--shadow-policies): 'auto' is every policy that
 * refused a request by deadline in its own run, so each refusal can be checked against the same request when
 * nothing is refused.
 */
const SHADOW_POLICIES = opt('shadow-policies', 'auto');

/** Closed-loop clients of the priority workload's capacity run: the 8 slots and 8 more waiting in the queue. */
const CAP_CONNECTIONS = 16;

async function priorityWorkload() {
  const specs = [{}, {}];
  const backendsOf = (list) => list.map((e, i) => ({ id: `llm-${i}`, baseUrl: e.baseUrl, kind: 'llm', models: [MODEL], maxConcurrency: 4 }));
  {
    // Capacity: the same prompts and output lengths with a queue behind the 8 slots, as under overload (at 8
    // clients a slot idles for each answer's round trip to the client, which undercounts by ~8 % on a loaded
    // machine), long enough that the count is not a handful of requests; no wait budget, so no client is turned
    // away. Every run below also reports what the engines served while loaded (served/s), which checks it.
    const capR = rng(SEED + 1);
    const capJob = () => ({ ...priorityJob(capR), priority: 'normal', sloMs: undefined, cls: 'NORMAL' });
    const cap = await withEngines(specs, backendsOf, (backends) => capacity(backends, capJob, CAP_CONNECTIONS, sec(20), { admission: { waitBudgetMs: 0 } }));
    const rate = 1.25 * cap;
    // A sustained overload: at 1.25x for 60 s the backlog of a plain queue grows to about 15 s, far past the
    // HIGH (3 s) and NORMAL (10 s) deadlines; HIGH + NORMAL alone are exactly the capacity.
    const D = sec(60);
    const r = rng(SEED);
    const jobs = poisson(r, rate, D).map((at) => ({ at, ...priorityJob(r) }));
    const warmR = rng(SEED + 9);
    const once = async (run) => {
      const { res, m } = await withEngines(specs, backendsOf, async (backends) => {
        const cp = await controlPlane({ policy: run.policy, router: 'load_balanced', backends, scheduler: { admission: { shadow: !!run.shadow } } });
        await warmUp(cp.url, () => ({ ...chatJob(warmR, { minWords: 50, maxWords: 600, minTokens: 16, maxTokens: 32 }), cls: 'NORMAL' }));
        const out = { res: await openLoop(cp.url, jobs), m: await getJson(`${cp.url}/v1/metrics`) };
        await cp.stop();
        return out;
      });
      // What the engines served while the backlog stood (after its first quarter): the capacity, seen under the mix.
      const served = score(res.results, D, D / 4).completionsPerSec;
      return { ...run, results: res.results, score: score(res.results, D), served, admission: m.admission, estimator: estimatorError(m) };
    };
    const raw = [];
    for (const policy of POLICIES) raw.push(await once({ policy }));
    // Shadow mode admits everything, notes what admission and the queued-deadline watch would have refused, and
    // scores each note against the outcome (the false-refusal rate). fifo refuses nothing by deadline.
    const refusedByDeadline = (x) => x.results.some((y) => y.code === 'deadline_infeasible');
    const shadowed = SHADOW_POLICIES === 'auto' ? raw.filter(refusedByDeadline).map((x) => x.policy) : SHADOW_POLICIES.split(',').filter(Boolean);
    for (const policy of shadowed) raw.push(await once({ policy, shadow: true }));
    // A refused request's deadline was feasible if the same request met it in the same policy's shadow run.
    for (const x of raw.filter((y) => !y.shadow)) {
      const shadow = raw.find((y) => y.shadow && y.policy === x.policy);
      const refused = x.results.filter((y) => y.status !== 200);
      if (!shadow) {
        x.refusedFeasible = refused.length === 0 ? 0 : null;
        continue;
      }
      const metInShadow = new Set(shadow.results.filter((y) => y.status === 200 && y.e2eMs <= y.job.sloMs).map((y) => y.job));
      x.refusedFeasible = refused.filter((y) => metInShadow.has(y.job)).length;
    }
    const rows = raw.map((x) => {
      const c = x.score.classes;
      const a = x.admission;
      return [
        x.shadow ? `${x.policy} (shadow)` : x.policy,
        pct(c.HIGH?.met ?? 0, c.HIGH?.sent ?? 0),
        pct(c.NORMAL?.met ?? 0, c.NORMAL?.sent ?? 0),
        pct(c.LOW?.met ?? 0, c.LOW?.sent ?? 0),
        num(x.score.goodputPerSec, 2),
        num(x.served, 2),
        x.shadow ? `(would: ${a.refused})` : refusalText(x.score.refusals),
        x.shadow || x.refusedFeasible === null || x.refusedFeasible === undefined ? '-' : String(x.refusedFeasible),
        x.shadow ? `${a.falseRefusals}/${a.refused} (${a.falseRefusalRate === null ? '-' : (100 * a.falseRefusalRate).toFixed(1) + '%'})` : '-',
        ms(x.score.ttftP50),
        ms(x.score.ttftP99),
        ms(x.score.e2eP99),
        err(x.estimator),
      ];
    });
    const fifo = raw.find((x) => x.policy === 'fifo' && !x.shadow)?.score.goodputPerSec;
    const notes = [];
    if (fifo !== undefined) notes.push(raw.filter((x) => !x.shadow && x.policy !== 'fifo').map((x) => `${x.policy}: goodput ${(x.score.goodputPerSec / Math.max(1e-9, fifo)).toFixed(2)}x fifo`).join('; '));
    const shadows = raw.filter((x) => x.shadow);
    const wouldRefuse = shadows.reduce((n, x) => n + x.admission.refused, 0);
    const falseRefusals = shadows.reduce((n, x) => n + x.admission.falseRefusals, 0);
    notes.push(
      shadows.length === 0
        ? 'no policy refused a request by deadline: no shadow run'
        : `false refusals (shadow runs of ${shadows.map((x) => x.policy).join(', ')}): ${falseRefusals} of ${wouldRefuse} would-be refusals${wouldRefuse > 0 ? ` (${((100 * falseRefusals) / wouldRefuse).toFixed(1)}%)` : ''}`,
    );
    return {
      id: 'priority',
      title: 'Priority mix at 1.25x capacity (2 sim-llm x 4 slots; 20% HIGH 3 s, 60% NORMAL 10 s, 20% LOW 60 s; streamed)',
      subtitle:
        `capacity ${cap.toFixed(2)} req/s measured closed-loop at ${CAP_CONNECTIONS} connections (8 slots, 8 queued); Poisson ${rate.toFixed(2)} req/s for ${D / 1000} s (${jobs.length} requests, seed ${SEED}). ` +
        `fifo is the plain queue (arrival order, deadline-blind). served/s: completions per second after the first quarter of the arrivals. ` +
        `refused feasible: refused requests that met their deadline in the same policy's shadow run. false refusals: would-be refusals of a shadow run that met their deadline`,
      columns: ['policy', 'HIGH met %', 'NORMAL met %', 'LOW met %', 'goodput/s', 'served/s', 'refused', 'refused feasible', 'false refusals', 'TTFT p50', 'TTFT p99', 'e2e p99', 'est. err'],
      rows,
      notes,
      raw: {
        capacity: cap,
        rate,
        durationMs: D,
        falseRefusals,
        wouldRefuse,
        runs: raw.map((x) => ({
          policy: x.policy,
          shadow: !!x.shadow,
          classes: x.score.classes,
          goodputPerSec: x.score.goodputPerSec,
          servedPerSec: x.served,
          refusals: x.score.refusals,
          refusedFeasible: x.refusedFeasible,
          admission: x.admission,
          // Each refusal as the client saw it: when it was sent, its class, and the control plane's reason.
          refused: x.results.filter((y) => y.status !== 200).map((y) => ({ cls: y.job.cls, atMs: Math.round(y.startedAt), code: y.code, message: y.message })),
        })),
      },
    };
  }
}

const shortJob = (r) => ({ ...chatJob(r, { minWords: 10, maxWords: 30, minTokens: 32, maxTokens: 32, stream: false }), cls: 'NORMAL' });

/**
 * Completions per second as the least-squares slope of the cumulative count of answers (200s) over their end times
 * in [fromMs, toMs]. A 64-slot engine given requests of one length finishes them in waves about a service time
 * apart, so a plain count over a few seconds moves by a whole wave (±10 % and more) with where the window falls;
 * the slope of the staircase does not. The same measure serves the capacity and the runs compared with it.
 */
function completionRate(results, fromMs, toMs) {
  const t = results.filter((r) => r.status === 200 && r.endedAt >= fromMs && r.endedAt <= toMs).map((r) => r.endedAt).sort((a, b) => a - b);
  if (t.length < 2) return 0;
  const n = t.length;
  const mt = t.reduce((a, b) => a + b, 0) / n;
  const mc = (n + 1) / 2;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (t[i] - mt) * (i + 1 - mc);
    sxx += (t[i] - mt) ** 2;
  }
  return sxx > 0 ? (1000 * sxy) / sxx : 0;
}

let overloadCapacity;
const overloadSpecs = [{}];
const overloadBackendsOf = (list) => [{ id: 'llm-0', baseUrl: list[0].baseUrl, kind: 'llm', models: [MODEL], maxConcurrency: 64 }];

/** CPU time (user + system, ms) a process has used so far, from /proc (null where there is none). */
function processCpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

async function overloadRun(kind) {
  if (overloadCapacity === undefined) {
    const r = rng(SEED + 2);
    const D = sec(8);
    overloadCapacity = await withEngines(overloadSpecs, overloadBackendsOf, (backends) => capacity(backends, () => shortJob(r), 64, D, undefined, (results) => completionRate(results, D / 4, D)));
  }
  const cap = overloadCapacity;
  {
    const D = sec(12);
    const rows = [];
    const raw = [];
    const r = rng(SEED + 3);
    const jobs = kind === 'overload' ? poisson(r, 2 * cap, D).map((at) => ({ at, ...shortJob(r) })) : [];
    for (const policy of POLICIES) {
      const { res, m, healthP99, cpu } = await withEngines(overloadSpecs, overloadBackendsOf, async (backends) => {
        const cp = await controlPlane({ policy, router: 'load_balanced', backends });
        await warmUp(cp.url, () => shortJob(rng(SEED + 9)));
        const health = healthProbe(cp.url);
        const mr = rng(SEED + 4);
        // Whose CPU the run took: the load generator's own must stay well under a core, or it is the bottleneck.
        const t0 = performance.now();
        const client0 = process.cpuUsage();
        const cp0 = processCpuMs(cp.pid);
        const out = kind === 'overload' ? await openLoop(cp.url, jobs, 4096) : await closedLoop(cp.url, () => shortJob(mr), 2000, D);
        const wall = performance.now() - t0;
        const clientCpu = process.cpuUsage(client0);
        const cp1 = processCpuMs(cp.pid);
        const cpu = { client: (clientCpu.user + clientCpu.system) / 1000 / wall, controlPlane: cp0 === null || cp1 === null ? null : (cp1 - cp0) / wall };
        const p99 = await health();
        const metrics = await getJson(`${cp.url}/v1/metrics`);
        await cp.stop();
        return { res: out, m: metrics, healthP99: p99, cpu };
      });
      // The first second of a closed loop is its 2,000 clients arriving at once: counted from then on.
      const from = kind === 'storm' ? 1000 : 0;
      const s = score(res.results, D, from);
      const rate = completionRate(res.results, from, D);
      raw.push({ policy, completionsPerSec: rate, countedPerSec: s.completionsPerSec, queueWaitP99: m.latency.queueWaitMs.p99, refusals: s.refusals, cpu });
      const cpuText = `${Math.round(100 * cpu.client)} / ${cpu.controlPlane === null ? '-' : Math.round(100 * cpu.controlPlane)}`;
      rows.push([policy, num(rate), pct(rate, cap), ms(m.latency.queueWaitMs.p99), ms(m.latency.queueWaitMs.p50), refusalText(s.refusals), ms(s.e2eP99), ms(healthP99), cpuText]);
    }
    return {
      id: kind,
      title:
        kind === 'overload'
          ? '2x open-loop overload (1 sim-llm x 64 slots; short prompts, 32 tokens, no deadline)'
          : '2,000 concurrent closed-loop connections (same engine; clients honour Retry-After)',
      subtitle: `capacity ${cap.toFixed(1)} completions/s measured closed-loop at 64 connections; ${kind === 'overload' ? `Poisson ${(2 * cap).toFixed(1)} req/s` : '2,000 clients'} for ${D / 1000} s`,
      columns: ['policy', 'completions/s', '% of capacity', 'queue wait p99 (admitted)', 'queue wait p50', 'refused', 'e2e p99', '/health p99', 'CPU % load gen / CP'],
      rows,
      notes: [
        `completions/s: slope of the cumulative answers over the window (capacity likewise); counted plainly in the window they were ${raw.map((x) => `${x.policy} ${pct(x.countedPerSec, cap)} %`).join(', ')} of capacity. CPU: the load generator's and the control plane's, in % of one core over the run.`,
      ],
      raw: { capacity: cap, runs: raw },
    };
  }
}

async function prefixWorkload() {
  const P = 10;
  const pr = rng(SEED + 5);
  const prefixes = Array.from({ length: P }, () => words(pr, 600));
  const D = sec(15);
  const rate = 8;
  const r = rng(SEED + 6);
  const jobs = poisson(r, rate, D).map((at) => ({
    at,
    ...chatJob(r, { minWords: 8, maxWords: 15, minTokens: 24, maxTokens: 24, system: prefixes[Math.floor(r() * P)] }),
    cls: 'NORMAL',
    sloMs: 10_000,
  }));
  const rows = [];
  const raw = [];
  for (const router of ROUTERS) {
    // Fresh engines per router: every router starts from cold caches.
    const list = await engines([0, 1].map(() => ({ args: ['--kv-cache-blocks', '300', '--prefill-tokens-per-second', '2000'] })));
    try {
      // Slots enough that both engines usually have room: where a request goes is then the router's choice.
      const backends = list.map((e, i) => ({ id: `llm-${i}`, baseUrl: e.baseUrl, kind: 'llm', models: [MODEL], maxConcurrency: 32 }));
      const cp = await controlPlane({ policy: 'fifo', router, backends });
      // Warm-up: each prefix twice, through the router under test, so the run measures the steady state.
      let w = 0;
      const wr = rng(SEED + 9);
      await warmUp(cp.url, () => ({ ...chatJob(wr, { minWords: 8, maxWords: 15, minTokens: 8, maxTokens: 8, system: prefixes[w++ % P] }), cls: 'NORMAL' }), 2 * P, 2);
      const res = await openLoop(cp.url, jobs);
      await cp.stop();
      const s = score(res.results, D);
      // What the engines themselves say: prompt tokens served from their prefix caches.
      let hit = 0;
      let prompt = 0;
      for (const e of list) {
        const text = await (await fetch(`http://${e.host}:${e.port}/metrics`)).text();
        hit += metricValue(text, 'vllm:prefix_cache_hit_tokens_total');
        prompt += metricValue(text, 'vllm:prompt_tokens_total');
      }
      raw.push({ router, ttftP99: s.ttftP99, ttftP50: s.ttftP50, completionsPerSec: s.completionsPerSec, prefixHitRate: prompt > 0 ? hit / prompt : null });
      rows.push([router, ms(s.ttftP50), ms(s.ttftP99), num((s.completed * 1000) / res.wallMs, 2), ms(s.e2eP99), pct(hit, prompt), pct(s.classes.NORMAL?.met ?? 0, s.classes.NORMAL?.sent ?? 0), refusalText(s.refusals)]);
    } finally {
      await stopAll(list);
    }
  }
  const rr = raw.find((x) => x.router === 'round_robin');
  const pa = raw.find((x) => x.router === 'prefix_aware');
  return {
    id: 'prefix',
    title: `Prefix mix: ${P} shared 600-word system prompts that fit two engines' KV caches but not one (2 sim-llm x 32 slots, --kv-cache-blocks 300, prefill 2,000 tok/s)`,
    subtitle: `Poisson ${rate} req/s for ${D / 1000} s (${jobs.length} requests), fifo, 24 output tokens, streamed`,
    columns: ['router', 'TTFT p50', 'TTFT p99', 'completions/s', 'e2e p99', 'engine prefix hit %', 'met % (10 s)', 'refused'],
    rows,
    notes: [`prefix_aware TTFT p99 = ${(pa.ttftP99 / rr.ttftP99).toFixed(2)}x round_robin`],
    raw: { runs: raw },
  };
}

async function mixedWorkload() {
  const specs = [{}, { kind: 'sim-embedding', model: EMBED_MODEL }];
  const backendsOf = (list) => [
    { id: 'llm-0', baseUrl: list[0].baseUrl, kind: 'llm', models: [MODEL], maxConcurrency: 8 },
    { id: 'embed-0', baseUrl: list[1].baseUrl, kind: 'embedding', models: [EMBED_MODEL], maxConcurrency: 8 },
  ];
  {
    const D = sec(12);
    const r = rng(SEED + 7);
    const jobs = poisson(r, 24, D).map((at) => {
      if (r() < 0.5) return { at, ...chatJob(r, { minWords: 50, maxWords: 300, minTokens: 16, maxTokens: 64 }), cls: 'chat', sloMs: 10_000 };
      const input = Array.from({ length: 4 }, () => words(r, between(r, 20, 60)));
      return { at, embedding: true, body: { model: EMBED_MODEL, input }, cls: 'embed', sloMs: 2000 };
    });
    const rows = [];
    const raw = [];
    for (const policy of POLICIES) {
      const { res, m } = await withEngines(specs, backendsOf, async (backends) => {
        const cp = await controlPlane({ policy, router: 'load_balanced', backends });
        await warmUp(cp.url, () => ({ ...chatJob(rng(SEED + 9), { minWords: 50, maxWords: 300, minTokens: 16, maxTokens: 32 }), cls: 'chat' }));
        const out = { res: await openLoop(cp.url, jobs), m: await getJson(`${cp.url}/v1/metrics`) };
        await cp.stop();
        return out;
      });
      const s = score(res.results, D);
      const c = s.classes;
      raw.push({ policy, classes: c, goodputPerSec: s.goodputPerSec });
      rows.push([policy, pct(c.chat?.met ?? 0, c.chat?.sent ?? 0), pct(c.embed?.met ?? 0, c.embed?.sent ?? 0), num(s.goodputPerSec, 2), refusalText(s.refusals), ms(s.ttftP50), ms(s.ttftP99), ms(s.e2eP99), err(estimatorError(m))]);
    }
    return {
      id: 'mixed',
      title: 'Chat + embeddings (1 sim-llm x 8 slots, 1 sim-embedding x 8 slots; chat 10 s SLO, embeddings of 4 texts 2 s SLO)',
      subtitle: `Poisson 24 req/s, half each, for ${D / 1000} s (${jobs.length} requests)`,
      columns: ['policy', 'chat met %', 'embed met %', 'goodput/s', 'refused', 'TTFT p50', 'TTFT p99', 'e2e p99', 'est. err'],
      rows,
      raw: { runs: raw },
    };
  }
}

async function estimatorWorkload() {
  const list = await engines([{}, { timeScale: 2 }]);
  const backends = [
    { id: 'default', baseUrl: list[0].baseUrl, kind: 'llm', models: [MODEL], maxConcurrency: 4 },
    { id: 'slower-2x', baseUrl: list[1].baseUrl, kind: 'llm', models: [MODEL], maxConcurrency: 4 },
  ];
  try {
    const D = sec(40);
    const r = rng(SEED + 8);
    const cp = await controlPlane({ policy: 'fifo', router: 'load_balanced', backends });
    await closedLoop(cp.url, () => ({ ...chatJob(r, { minWords: 50, maxWords: 600, minTokens: 16, maxTokens: 64 }), cls: 'NORMAL' }), 8, D);
    const m = await getJson(`${cp.url}/v1/metrics`);
    await cp.stop();
    const rows = Object.entries(m.estimator).map(([id, a]) => [id, String(a.samples), String(Math.max(0, a.samples - 50)), err(a.e2eMdape), err(a.ttftMdape)]);
    return {
      id: 'estimator',
      title: 'Estimator calibration: a default sim-llm and one started 2x slower (--time-scale 2), same code and defaults',
      subtitle: `closed loop, 8 connections, ${D / 1000} s; errors over the requests after each instance's first 50 (warm-up)`,
      columns: ['instance', 'requests', 'scored after warm-up', 'e2e median abs error', 'TTFT median abs error'],
      rows,
      raw: { estimator: m.estimator },
    };
  } finally {
    await stopAll(list);
  }
}

const RUNNERS = { priority: priorityWorkload, overload: () => overloadRun('overload'), storm: () => overloadRun('storm'), prefix: prefixWorkload, mixed: mixedWorkload, estimator: estimatorWorkload };

async function main() {
  // Exiting runs the launcher's exit hook, which stops the engines this run started.
  for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => process.exit(130));
  const started = Date.now();
  const machine = `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, node ${process.version}, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`;
  console.log(`# sage scheduling scoreboard\n\n${new Date().toISOString()} on ${machine}; seed ${SEED}, scale ${SCALE}`);
  const tables = [];
  for (const w of SELECTED) {
    const t0 = Date.now();
    const t = await RUNNERS[w]();
    t.seconds = Math.round((Date.now() - t0) / 1000);
    tables.push(t);
    printTable(t);
  }
  console.log(`\ntotal ${Math.round((Date.now() - started) / 1000)} s`);
  const result = { date: new Date().toISOString(), machine, seed: SEED, scale: SCALE, tables };
  const jsonOut = opt('json-out');
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify(result, null, 2));
  const htmlOut = opt('html-out');
  if (htmlOut) writeFileSync(htmlOut, renderHtml(result));
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
