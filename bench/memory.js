#!/usr/bin/env node
// sage's memory under load: resident set size of the control plane (`sage inference start --llm-backend MOCK`,
// default settings) idle, after a warm-up, after 100,000 chat requests, while 2,000 keep-alive connections sit
// idle on it, and once the load has stopped — which should come back to within 10% of the post-warm-up figure
// (V8 gives its grown heap back when allocation stays low for a while, so the figure is watched for --settle-sec).
// The mock upstream answers at once; the load (autocannon, 32 connections) and the idle connections come from
// this process. Bounded in time, 127.0.0.1 only.
//
//   npm run build && node bench/memory.js [--requests 100000] [--idle 2000] [--settle-sec 120] [--json]
'use strict';
const net = require('node:net');
const autocannon = require('autocannon');
const { CHAT } = require('./lib/load');
const { machine, rssOf } = require('./lib/processes');
const { startMock, startSage } = require('./lib/targets');

const argv = process.argv.slice(2);
const opt = (name, def) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : def);
const REQUESTS = Number(opt('requests', 100_000));
const IDLE = Number(opt('idle', 2000));
const SETTLE_SEC = Number(opt('settle-sec', 120));
const JSON_OUT = argv.includes('--json');
const log = (...a) => (JSON_OUT ? undefined : console.error(...a));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mb = (b) => b / 2 ** 20;

async function requests(target, amount) {
  const r = await autocannon({
    url: `${target.url}/v1/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(CHAT),
    connections: 32,
    amount,
  });
  const failed = r.non2xx + r.errors + r.timeouts;
  if (failed > 0) throw new Error(`${failed} of ${amount} requests failed`);
  return r;
}

/** `n` keep-alive connections, each having completed one chat request, left open and idle. */
async function idleConnections(url, n) {
  const { hostname, port } = new URL(url);
  const body = JSON.stringify(CHAT);
  const req = `POST /v1/chat/completions HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: keep-alive\r\n\r\n${body}`;
  const open = (attempt = 0) =>
    new Promise((resolve, reject) => {
      const s = net.connect(Number(port), hostname);
      let got = '';
      s.setEncoding('utf8');
      s.once('error', reject);
      s.on('data', (d) => {
        got += d;
        // One complete answer (the mock's JSON ends the body): the connection now idles.
        if (/^HTTP\/1\.1 200/.test(got) && got.includes('"usage"')) {
          s.removeAllListeners('data');
          s.removeListener('error', reject);
          s.on('error', () => undefined);
          resolve(s);
        } else if (/^HTTP\/1\.1 (?!200)/.test(got)) reject(new Error(`connection ${attempt}: ${got.split('\r\n')[0]}`));
      });
      s.write(req);
    });
  const sockets = [];
  // A few at a time, as clients arrive, not a SYN flood.
  for (let i = 0; i < n; i += 50) sockets.push(...(await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => open()))));
  return sockets;
}

async function main() {
  const env = machine();
  log(`memory benchmark: ${env.date}, ${env.cpu}, node ${env.node}, load average ${env.load}`);
  const mock = await startMock();
  const sage = await startSage(mock.url);
  const pid = sage.child.pid;
  const rss = {};
  let settled;
  try {
    await sleep(2000);
    rss.idle = rssOf(pid);
    log(`idle: ${mb(rss.idle).toFixed(1)} MB`);
    await requests(sage, 10_000);
    await sleep(3000);
    rss.warm = rssOf(pid);
    log(`after a warm-up of 10,000 requests: ${mb(rss.warm).toFixed(1)} MB`);
    const t0 = Date.now();
    const r = await requests(sage, REQUESTS);
    rss.loaded = rssOf(pid);
    log(`after ${REQUESTS} requests (${((REQUESTS * 1000) / (Date.now() - t0)).toFixed(0)} req/s, p99 ${r.latency.p99} ms): ${mb(rss.loaded).toFixed(1)} MB`);
    const sockets = await idleConnections(sage.url, IDLE);
    await sleep(1000);
    rss.idleConnections = rssOf(pid);
    log(`with ${sockets.length} idle keep-alive connections: ${mb(rss.idleConnections).toFixed(1)} MB`);
    for (const s of sockets) s.destroy();
    // Load stopped: watch it come back (the runtime returns memory over tens of seconds, not at once).
    const limit = rss.warm * 1.1;
    const until = Date.now() + SETTLE_SEC * 1000;
    do {
      await sleep(1000);
      rss.after = rssOf(pid);
      if (rss.after <= limit) settled = Math.round((SETTLE_SEC * 1000 - (until - Date.now())) / 1000);
    } while (settled === undefined && Date.now() < until);
    log(`after the load stopped: ${mb(rss.after).toFixed(1)} MB${settled !== undefined ? ` (within 10% of post-warm-up after ${settled} s)` : ` (still above ${mb(limit).toFixed(1)} MB after ${SETTLE_SEC} s)`}`);
  } finally {
    await sage.stop();
    await mock.stop();
  }
  const ok = rss.after <= rss.warm * 1.1;
  if (JSON_OUT) return void console.log(JSON.stringify({ machine: env, requests: REQUESTS, idleConnections: IDLE, rssBytes: rss, settledAfterSec: settled, pass: ok }, null, 2));
  console.log(`sage RSS (MB), ${env.date}, ${env.cpu}, node ${env.node}`);
  console.table({
    idle: mb(rss.idle).toFixed(1),
    'after warm-up (10,000 requests)': mb(rss.warm).toFixed(1),
    [`after ${REQUESTS.toLocaleString('en')} requests`]: mb(rss.loaded).toFixed(1),
    [`with ${IDLE.toLocaleString('en')} idle keep-alive connections`]: mb(rss.idleConnections).toFixed(1),
    'after the load stopped': mb(rss.after).toFixed(1),
  });
  console.log(`${ok ? 'PASS' : 'FAIL'}  back within 10% of post-warm-up: ${mb(rss.after).toFixed(1)} MB vs ${mb(rss.warm).toFixed(1)} MB (${rss.after >= rss.warm ? '+' : '−'}${Math.abs((rss.after / rss.warm - 1) * 100).toFixed(1)}%)${settled !== undefined ? `, after ${settled} s` : ''}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
