// Load for the overhead benchmarks, generated in the benchmark's own process (the servers run in theirs).
// Non-streaming: autocannon, closed loop at a fixed number of connections. Streaming: sequential streams read
// with undici, timing the first chunk and how late each later chunk arrives relative to when the mock sent it.
'use strict';
const autocannon = require('autocannon');
const { performance } = require('node:perf_hooks');
const { Pool } = require('undici');

const CHAT = { model: 'mock-model', messages: [{ role: 'user', content: 'Hello! Say something short.' }], max_tokens: 16 };

/** Closed-loop load at `connections` for `durationSec` (or `amount` requests); mean latency is exact at one connection (time / requests). */
async function closedLoop(target, { connections, durationSec, amount, body = CHAT }) {
  const r = await autocannon({
    url: `${target.url}/v1/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body: JSON.stringify(body),
    connections,
    // A fixed number of requests (warm-ups), else a fixed time.
    ...(amount ? { amount } : { duration: durationSec }),
  });
  const ok = r.requests.total - r.non2xx;
  const rps = r.requests.total / r.duration;
  return {
    rps,
    // autocannon's histogram has 1 ms resolution; with one connection the mean is exact from the rate.
    meanMs: connections === 1 ? 1000 / rps : r.latency.mean,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    requests: r.requests.total,
    failed: r.non2xx + r.errors + r.timeouts,
    ok,
  };
}

/** SSE `data:` payloads of a buffer; returns the rest (an incomplete event). */
function events(buf, out) {
  let i;
  while ((i = buf.indexOf('\n\n')) >= 0) {
    const ev = buf.slice(0, i);
    buf = buf.slice(i + 2);
    for (const line of ev.split('\n')) if (line.startsWith('data:')) out.push(line.slice(5).trim());
  }
  return buf;
}

/**
 * `count` streamed chats one after another. TTFT: request sent to first content chunk read. Per-chunk delay: for
 * each chunk after the first, its arrival time minus the time the mock wrote it (both on the machine's clock),
 * averaged. Clock offsets between processes are the same for every relay, so the difference between two relays'
 * figures is the delay one adds to each chunk over the other.
 */
async function streams(target, { count, body = CHAT }) {
  const pool = new Pool(target.url, { connections: 1 });
  const payload = JSON.stringify({ ...body, stream: true });
  const ttft = [];
  const lag = [];
  let failed = 0;
  try {
    for (let s = 0; s < count; s++) {
      const t0 = performance.now();
      const res = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json', ...target.headers }, body: payload });
      if (res.statusCode !== 200) {
        failed++;
        await res.body.dump();
        continue;
      }
      let buf = '';
      let first;
      let lagSum = 0;
      let lagN = 0;
      for await (const part of res.body) {
        const at = performance.now();
        const atClock = performance.timeOrigin + at;
        const data = [];
        buf = events(buf + part, data);
        for (const d of data) {
          if (d === '[DONE]') continue;
          const content = JSON.parse(d).choices?.[0]?.delta?.content;
          if (typeof content !== 'string') continue;
          const emitted = Number.parseFloat(content);
          if (first === undefined) {
            first = at;
            ttft.push(at - t0);
          } else {
            lagSum += atClock - emitted;
            lagN++;
          }
        }
      }
      if (first === undefined) failed++;
      else if (lagN > 0) lag.push(lagSum / lagN);
    }
  } finally {
    await pool.close();
  }
  return { ttft, lag, failed };
}

const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const pct = (xs, p) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

module.exports = { CHAT, closedLoop, streams, mean, pct };
