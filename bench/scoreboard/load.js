// Load generation for the scoreboard: seeded workloads, open-loop (Poisson) and closed-loop clients over
// undici, streamed chat (TTFT from the first SSE chunk), embeddings, and the figures of one run.
/* global require, module, setTimeout, performance */
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS scripts run with node */
const { Agent, request } = require('undici');
const { rng, words, between } = require('../lib/seeded');

/** Poisson arrival times (ms from start) at `rate` per second for `durationMs`. */
function poisson(r, rate, durationMs) {
  const times = [];
  for (let t = -Math.log(1 - r()) * (1000 / rate); t < durationMs; t += -Math.log(1 - r()) * (1000 / rate)) times.push(t);
  return times;
}

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

/** One request; resolves with what the client saw (never rejects). */
async function send(agent, baseUrl, job) {
  const t0 = performance.now();
  const headers = { 'content-type': 'application/json' };
  if (job.priority) headers['x-sage-priority'] = job.priority;
  if (job.sloMs) headers['x-sage-slo-ms'] = String(job.sloMs);
  if (job.ttftMs) headers['x-sage-ttft-ms'] = String(job.ttftMs);
  const path = job.embedding ? '/v1/embeddings' : '/v1/chat/completions';
  try {
    const res = await request(baseUrl + path, { method: 'POST', dispatcher: agent, headers, body: JSON.stringify(job.body), headersTimeout: 120_000, bodyTimeout: 120_000 });
    if (res.statusCode !== 200) {
      const text = await res.body.text();
      let code = String(res.statusCode);
      let message;
      try {
        ({ code = code, message } = JSON.parse(text).error);
      } catch {
        /* not JSON: keep the status */
      }
      const retry = Number(res.headers['retry-after']);
      return { job, status: res.statusCode, code, message, retryAfterSec: Number.isFinite(retry) ? retry : undefined, e2eMs: performance.now() - t0 };
    }
    let ttftMs;
    for await (const chunk of res.body) {
      if (ttftMs === undefined && chunk.length > 0) ttftMs = performance.now() - t0;
    }
    const e2eMs = performance.now() - t0;
    return { job, status: 200, ttftMs: job.body.stream ? ttftMs : undefined, e2eMs };
  } catch (err) {
    return { job, status: 0, code: err && err.code ? String(err.code) : 'client_error', e2eMs: performance.now() - t0 };
  }
}

/** Fires `jobs` at their `at` times (open loop) and waits for every answer. */
async function openLoop(baseUrl, jobs, connections = 512) {
  const agent = new Agent({ connections, keepAliveTimeout: 30_000 });
  const t0 = performance.now();
  const pending = [];
  for (const job of jobs) {
    const wait = job.at - (performance.now() - t0);
    if (wait > 1) await sleep(wait);
    const startedAt = performance.now() - t0;
    pending.push(send(agent, baseUrl, job).then((r) => ({ ...r, startedAt, endedAt: performance.now() - t0 })));
  }
  const results = await Promise.all(pending);
  await agent.close();
  return { results, wallMs: performance.now() - t0 };
}

/**
 * `connections` clients each sending `make()` back to back for `durationMs`; a refusal with Retry-After is
 * honoured (the client waits that long, as the OpenAI SDK does), any other failure retried after `pauseMs`.
 */
async function closedLoop(baseUrl, make, connections, durationMs, pauseMs = 50) {
  const agent = new Agent({ connections, keepAliveTimeout: 30_000 });
  const t0 = performance.now();
  const results = [];
  const worker = async () => {
    while (performance.now() - t0 < durationMs) {
      const startedAt = performance.now() - t0;
      const r = await send(agent, baseUrl, make());
      results.push({ ...r, startedAt, endedAt: performance.now() - t0 });
      const left = durationMs - (performance.now() - t0);
      if (r.status !== 200) await sleep(Math.min(left, r.retryAfterSec !== undefined ? r.retryAfterSec * 1000 : pauseMs));
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  await agent.close();
  return { results, wallMs: performance.now() - t0 };
}

function quantile(values, q) {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

/** A few requests before a run, so that it does not measure a cold process (JIT, tokenizer tables). */
async function warmUp(baseUrl, make, n = 16, connections = 4) {
  const agent = new Agent({ connections });
  for (let i = 0; i < n; i += connections) await Promise.all(Array.from({ length: Math.min(connections, n - i) }, () => send(agent, baseUrl, make())));
  await agent.close();
}

/**
 * Figures of one run from the client's side, per class (job.cls). Completions per second count the answers
 * that ended in [fromMs, windowMs] (a closed loop's first answers come late: they start together).
 */
function score(results, windowMs, fromMs = 0) {
  const classes = {};
  const refusals = {};
  let met = 0;
  for (const r of results) {
    const c = (classes[r.job.cls] ??= { sent: 0, met: 0, completed: 0, refused: 0 });
    c.sent += 1;
    if (r.status === 200) c.completed += 1;
    else {
      c.refused += 1;
      refusals[r.code] = (refusals[r.code] ?? 0) + 1;
    }
    const inTime = r.status === 200 && (!r.job.sloMs || r.e2eMs <= r.job.sloMs) && (!r.job.ttftMs || (r.ttftMs ?? r.e2eMs) <= r.job.ttftMs);
    if (inTime) {
      c.met += 1;
      met += 1;
    }
  }
  const ok = results.filter((r) => r.status === 200);
  const inWindow = ok.filter((r) => r.endedAt >= fromMs && r.endedAt <= windowMs);
  return {
    classes,
    refusals,
    sent: results.length,
    completed: ok.length,
    goodputPerSec: (met * 1000) / windowMs,
    completionsPerSec: (inWindow.length * 1000) / (windowMs - fromMs),
    ttftP50: quantile(ok.map((r) => r.ttftMs).filter((v) => v !== undefined), 0.5),
    ttftP99: quantile(ok.map((r) => r.ttftMs).filter((v) => v !== undefined), 0.99),
    e2eP99: quantile(ok.map((r) => r.e2eMs), 0.99),
  };
}

module.exports = { rng, words, between, poisson, sleep, openLoop, closedLoop, warmUp, score, quantile };
