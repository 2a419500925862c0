#!/usr/bin/env node
// Scheduling quality benchmark: the same overload burst of mixed priorities and deadlines is run
// through the control plane under each policy, against real sim-llm engines (child processes), and the
// figures are printed side by side with the round-robin/fifo baseline.
//
//   npm run build && node bench/scheduling-policies.js [--requests 60] [--engines 2]
//        [--time-scale 0.2] [--slots 2] [--high-deadline-ms 900] [--json]
//
// Workload: every 4th request is HIGH with a tight end-to-end deadline; the rest alternate NORMAL (loose
// deadline) and LOW (no deadline). All arrive at once, so the control plane's queue holds most of them.
/* global require, process, console */
'use strict';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain CommonJS script run with node
const { ControlPlaneManager, RequestRejectedError, createLatencyEstimator, RequestPriority } = require('@sage/llm-core');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain CommonJS script run with node
const { launchSimEngine } = require('@sage/llm-core/testing');

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const N = arg('requests', 60);
const ENGINES = arg('engines', 2);
const TIME_SCALE = arg('time-scale', 0.2);
const SLOTS = arg('slots', 2);
const HIGH_DEADLINE_MS = arg('high-deadline-ms', 900);
const NORMAL_DEADLINE_MS = 20_000;
const JSON_OUT = process.argv.includes('--json');

const RUNS = [
  { policy: 'fifo', router: 'round_robin', baseline: true },
  { policy: 'fifo', router: 'load_balanced' },
  { policy: 'priority', router: 'load_balanced' },
  { policy: 'slo_aware', router: 'load_balanced', policyOptions: { onInfeasible: 'demote' } },
  { policy: 'cost_optimized', router: 'load_balanced' },
  { policy: 'adaptive', router: 'load_balanced' },
  { policy: 'hybrid', router: 'load_balanced' },
];

async function runOne(engines, run) {
  const manager = new ControlPlaneManager({
    policy: run.policy,
    router: run.router,
    policyOptions: run.policyOptions,
    estimator: createLatencyEstimator({ decodeTokensPerSec: 1000 / (15 * TIME_SCALE), prefillTokensPerSec: 20_000 }),
  });
  engines.forEach((e, i) => manager.registerInstance({ id: `llm-${i}`, baseUrl: e.baseUrl, models: ['bench-llm'], maxConcurrency: SLOTS, costPerHour: 1 + i }));
  const t0 = Date.now();
  const jobs = Array.from({ length: N }, (_, i) => {
    const high = i % 4 === 3;
    const priority = high ? RequestPriority.HIGH : i % 2 === 0 ? RequestPriority.NORMAL : RequestPriority.LOW;
    const sloDeadlineMs = high ? HIGH_DEADLINE_MS : priority === RequestPriority.NORMAL ? NORMAL_DEADLINE_MS : undefined;
    const started = Date.now();
    return manager
      .submit({ model: 'bench-llm', messages: [{ role: 'user', content: `Describe item ${i} in a few words.` }], maxTokens: 32, priority, sloDeadlineMs })
      .then(
        () => ({ high, met: Date.now() - started <= HIGH_DEADLINE_MS, rejected: false }),
        (err) => {
          if (!(err instanceof RequestRejectedError)) throw err;
          return { high, met: false, rejected: true };
        },
      );
  });
  const results = await Promise.all(jobs);
  const wallMs = Date.now() - t0;
  const m = manager.getMetrics();
  await manager.close();
  const highs = results.filter((r) => r.high);
  return {
    policy: run.policy,
    router: run.router,
    baseline: !!run.baseline,
    highMet: highs.filter((r) => r.met).length,
    highTotal: highs.length,
    sloOverall: m.slo.overall.compliance,
    p50: m.latency.e2eMs.p50,
    p95: m.latency.e2eMs.p95,
    p99: m.latency.e2eMs.p99,
    rejected: results.filter((r) => r.rejected).length,
    reqPerSec: Math.round((results.length / wallMs) * 1000 * 10) / 10,
  };
}

async function main() {
  const engines = await Promise.all(Array.from({ length: ENGINES }, () => launchSimEngine({ kind: 'sim-llm', model: 'bench-llm', timeScale: TIME_SCALE })));
  const rows = [];
  try {
    for (const run of RUNS) rows.push(await runOne(engines, run));
  } finally {
    await Promise.all(engines.map((e) => e.stop()));
  }
  if (JSON_OUT) {
    console.log(JSON.stringify({ requests: N, engines: ENGINES, timeScale: TIME_SCALE, slots: SLOTS, highDeadlineMs: HIGH_DEADLINE_MS, rows }, null, 2));
    return;
  }
  console.log(`scheduling under overload: ${N} requests (every 4th HIGH, deadline ${HIGH_DEADLINE_MS} ms), ${ENGINES} sim-llm engines x ${SLOTS} slots, time scale ${TIME_SCALE}`);
  const header = ['policy', 'router', 'HIGH met', 'HIGH %', 'SLO all %', 'p50 ms', 'p95 ms', 'p99 ms', 'rejected', 'req/s'];
  const fmt = (r) => [
    r.policy + (r.baseline ? ' (baseline)' : ''),
    r.router,
    `${r.highMet}/${r.highTotal}`,
    ((100 * r.highMet) / Math.max(1, r.highTotal)).toFixed(0),
    r.sloOverall === null ? '-' : (100 * r.sloOverall).toFixed(0),
    Math.round(r.p50),
    Math.round(r.p95),
    Math.round(r.p99),
    r.rejected,
    r.reqPerSec,
  ];
  const table = [header, ...rows.map(fmt)].map((cols) => cols.map(String));
  const widths = header.map((_, c) => Math.max(...table.map((row) => row[c].length)));
  for (const row of table) console.log(row.map((v, c) => v.padEnd(widths[c])).join('  '));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
