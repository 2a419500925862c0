#!/usr/bin/env node
// Chaos: three sim-llm engines behind the control plane, launched and supervised by it (as `sage inference start`
// does, in a child process of its own), under a mixed load for DURATION seconds — non-streaming and streaming,
// chat and completions, some with deadlines — while a random engine is killed with SIGKILL every 10 s and one
// is frozen with SIGSTOP for 5 s once. Prints requests, failed requests, broken streams, streams failed over,
// heal times (exit to RUNNING) and p99 latency during faults vs before. Every stream is replayed afterwards
// without streaming: its text must equal the uninterrupted answer (no repeated or missing chunk).
// 127.0.0.1 only; bounded in time and requests. Run after `npm run build`: node bench/chaos.js [seconds]
'use strict';
const { spawn } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const { cpus, loadavg, tmpdir } = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { createInterface } = require('node:readline');

const MODEL = 'sage-sim-llm';
const PRESET = `
version: 1
name: chaos
engines:
  - { name: a, kind: llm, engine: sim-llm, model: ${MODEL} }
  - { name: b, kind: llm, engine: sim-llm, model: ${MODEL} }
  - { name: c, kind: llm, engine: sim-llm, model: ${MODEL} }
`;
const STREAM_IDLE_MS = 2000;

// ------------------------------------------------------------------ the control plane (child process)

async function serve() {
  const { startControlPlaneServer, parsePreset } = require('@sage/llm-core');
  const base = 30000 + Math.floor(Math.random() * 500) * 40;
  const cp = await startControlPlaneServer({
    port: 0,
    auth: { apiKeys: [] },
    preset: parsePreset(PRESET),
    runtime: {
      sageHome: process.env.SAGE_HOME,
      simTimeScale: 0.5,
      engineStopGraceMs: 2000,
      portRanges: { llm: { start: base, end: base + 10 }, embedding: { start: base + 11, end: base + 20 }, fallback: { start: base + 21, end: base + 39 } },
      scheduler: { streamIdleTimeoutMs: STREAM_IDLE_MS, requestTimeoutMs: 30_000 },
    },
  });
  process.stdout.write(`${JSON.stringify({ url: cp.url })}\n`);
  const stop = () => cp.close(3000).then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

// ------------------------------------------------------------------ the load and the faults

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const fmt = (ms) => (Number.isFinite(ms) ? `${Math.round(ms)} ms` : '-');

async function startServer(sageHome) {
  const child = spawn(process.execPath, [__filename, '--serve'], { env: { ...process.env, SAGE_HOME: sageHome, SAGE_LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('control plane did not start within 60 s')), 60_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const msg = JSON.parse(line);
        if (msg.url) {
          clearTimeout(timer);
          resolve(msg.url);
        }
      } catch {
        // not ours
      }
    });
    child.once('exit', (code) => reject(new Error(`control plane exited with ${code}`)));
  });
  return { child, url };
}

async function engines(url) {
  const res = await fetch(`${url}/v1/management/engines`);
  return (await res.json()).engines;
}

/** One request; resolves to its record (never throws). */
async function oneRequest(url, spec, t0) {
  const start = performance.now();
  const rec = { kind: spec.kind, stream: spec.stream, deadline: spec.headers !== undefined, start: start - t0, ok: false, broken: false, text: '', body: spec.body };
  try {
    const res = await fetch(`${url}${spec.path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(spec.headers ?? {}) }, body: JSON.stringify(spec.body) });
    if (!spec.stream) {
      const body = await res.json();
      rec.ok = res.status === 200;
      rec.status = res.status;
      if (!rec.ok) rec.error = body?.error?.code ?? String(res.status);
    } else if (res.status !== 200) {
      rec.status = res.status;
      rec.error = (await res.json().catch(() => ({})))?.error?.code ?? String(res.status);
    } else {
      // Read the SSE stream: one id, one finish reason, no error event, [DONE] at the end.
      const ids = new Set();
      let finishes = 0;
      let done = false;
      let errorEvent;
      let buffer = '';
      const decoder = new TextDecoder();
      for await (const part of res.body) {
        buffer += decoder.decode(part, { stream: true });
        let at;
        while ((at = buffer.indexOf('\n\n')) >= 0) {
          const line = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          if (!line.startsWith('data: ')) continue;
          const data = line.slice(6);
          if (data === '[DONE]') {
            done = true;
            continue;
          }
          const chunk = JSON.parse(data);
          if (chunk.error) {
            errorEvent = chunk.error.code;
            continue;
          }
          ids.add(chunk.id);
          for (const c of chunk.choices ?? []) {
            if (rec.ttft === undefined && (c.delta?.content || c.text)) rec.ttft = performance.now() - start;
            rec.text += c.delta?.content ?? c.text ?? '';
            if (c.finish_reason) finishes++;
          }
        }
      }
      rec.ok = done && !errorEvent && finishes === 1 && ids.size === 1;
      rec.broken = !rec.ok;
      if (!rec.ok) rec.error = errorEvent ?? `finishes=${finishes} ids=${ids.size} done=${done}`;
    }
  } catch (err) {
    rec.error = err.message;
    rec.broken = spec.stream;
  }
  rec.end = performance.now() - t0;
  rec.ms = rec.end - rec.start;
  return rec;
}

let seq = 0;
function nextSpec() {
  const i = seq++;
  const stream = i % 3 === 0;
  const chat = i % 2 === 0;
  const seed = 1000 + i;
  const max = stream ? 60 + (i % 5) * 30 : 8 + (i % 4) * 8; // streams 60..180 tokens, JSON 8..32
  const deadline = i % 4 === 1 ? { 'x-sage-slo-ms': '15000' } : undefined;
  const body = chat
    ? { model: MODEL, messages: [{ role: 'user', content: `Question ${i}: tell me about rivers.` }], max_tokens: max, seed, stream }
    : { model: MODEL, prompt: `Story ${i}: once upon a time`, max_tokens: max, seed, stream };
  return { kind: chat ? 'chat' : 'completion', stream, path: chat ? '/v1/chat/completions' : '/v1/completions', body, headers: deadline };
}

async function main() {
  const seconds = Number(process.argv[2] ?? 60);
  const concurrency = 12;
  const sageHome = mkdtempSync(path.join(tmpdir(), 'sage-chaos-'));
  const { child, url } = await startServer(sageHome);
  const stopped = new Set();
  const records = [];
  const faults = []; // { kind, engine, at, healedAt?, until? }
  // Warm-up (not measured): the engines' and the control plane's first requests pay for JIT and lazy loading.
  await Promise.all(Array.from({ length: 24 }, () => oneRequest(url, nextSpec(), performance.now())));
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  try {
    // Engine states, polled: the time from a kill to RUNNING on a new pid is the heal time.
    let polling = true;
    const drains = new Map(); // instance → first reason seen in /health
    const healthPoller = (async () => {
      while (polling) {
        const health = await fetch(`${url}/health`).then((r) => r.json()).catch(() => undefined);
        for (const i of health?.instances ?? []) if (i.drained && !drains.has(i.id)) drains.set(i.id, `${(now() / 1000).toFixed(1)} s: ${i.drained}`);
        await sleep(250);
      }
    })();
    const poller = (async () => {
      while (polling) {
        const list = await engines(url).catch(() => []);
        for (const f of faults) {
          if (f.kind !== 'SIGKILL' || f.healedAt !== undefined) continue;
          const e = list.find((x) => x.id === f.engine);
          if (e) {
            if (e.state !== 'RUNNING' && e.state !== f.lastState) f.sawState = [...(f.sawState ?? []), e.state];
            f.lastState = e.state;
            if (e.state === 'RUNNING' && e.pid !== f.pid) f.healedAt = now();
          }
        }
        await sleep(50);
      }
    })();

    // Faults: SIGKILL a random running engine every 10 s; SIGSTOP another one for 5 s at 25 s.
    const chaos = (async () => {
      for (let t = 10; t < seconds; t += 10) {
        await sleep(Math.max(0, t * 1000 - now()));
        const list = (await engines(url)).filter((e) => e.state === 'RUNNING' && e.pid && !stopped.has(e.pid));
        const victim = list[Math.floor(Math.random() * list.length)];
        if (!victim) continue;
        faults.push({ kind: 'SIGKILL', engine: victim.id, pid: victim.pid, at: now() });
        process.kill(victim.pid, 'SIGKILL');
      }
    })();
    const freeze = (async () => {
      if (seconds < 30) return;
      await sleep(Math.max(0, 25_000 - now()));
      const list = (await engines(url)).filter((e) => e.state === 'RUNNING' && e.pid);
      const victim = list[Math.floor(Math.random() * list.length)];
      if (!victim) return;
      const f = { kind: 'SIGSTOP', engine: victim.id, pid: victim.pid, at: now() };
      faults.push(f);
      stopped.add(victim.pid);
      process.kill(victim.pid, 'SIGSTOP');
      await sleep(5000);
      process.kill(victim.pid, 'SIGCONT');
      stopped.delete(victim.pid);
      f.until = now();
    })();

    // The load: `concurrency` clients, each sending its next request as soon as the last one ended.
    const end = seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (now() < end) records.push(await oneRequest(url, nextSpec(), t0));
      }),
    );
    await Promise.all([chaos, freeze]);
    await sleep(4000); // the last kill heals
    polling = false;
    await Promise.all([poller, healthPoller]);

    // Every stream replayed without streaming: the text the client got must be the uninterrupted answer.
    const streams = records.filter((r) => r.stream && r.ok);
    let mismatched = 0;
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < streams.length) {
          const r = streams[next++];
          const res = await fetch(`${url}${r.kind === 'chat' ? '/v1/chat/completions' : '/v1/completions'}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...r.body, stream: false }) });
          const body = await res.json();
          const text = r.kind === 'chat' ? body.choices?.[0]?.message?.content : body.choices?.[0]?.text;
          if (text !== r.text) mismatched++;
        }
      }),
    );

    const metrics = await (await fetch(`${url}/metrics`)).text();
    const failovers = [...metrics.matchAll(/^sage_stream_failovers_total\{reason="([^"]+)"\} (\d+)/gm)].map((m) => [m[1], Number(m[2])]);

    // Report.
    const json = records.filter((r) => !r.stream);
    const streamed = records.filter((r) => r.stream);
    const firstFault = faults.length ? Math.min(...faults.map((f) => f.at)) : Infinity;
    const windows = faults.map((f) => [f.at, f.kind === 'SIGKILL' ? (f.healedAt ?? f.at + 5000) : (f.until ?? f.at + 5000)]);
    const during = (r) => windows.some(([a, b]) => r.start < b && r.end > a);
    const before = (r) => r.end < firstFault;
    const lat = (rs) => rs.filter((r) => r.ok).map((r) => r.ms);
    console.log(`chaos: ${seconds} s, 3 sim-llm engines (time scale 0.5) launched and supervised by the control plane, ${concurrency} clients; load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores`);
    console.log(`  requests             ${records.length}: ${json.length} non-streaming, ${streamed.length} streaming; ${records.filter((r) => r.kind === 'chat').length} chat, ${records.filter((r) => r.kind === 'completion').length} completions; ${records.filter((r) => r.deadline).length} with a deadline`);
    console.log(`  failed non-streaming ${json.filter((r) => !r.ok).length}${json.some((r) => !r.ok) ? ` (${[...new Set(json.filter((r) => !r.ok).map((r) => r.error))].join(', ')})` : ''}`);
    console.log(`  broken streams       ${streamed.filter((r) => r.broken || (!r.ok && r.status === undefined)).length}${streamed.some((r) => !r.ok) ? ` (${[...new Set(streamed.filter((r) => !r.ok).map((r) => r.error))].join(', ')})` : ''}`);
    console.log(`  streams failed over  ${failovers.reduce((s, [, n]) => s + n, 0)} (${failovers.map(([k, n]) => `${k} ${n}`).join(', ')})`);
    console.log(`  stream text check    ${streams.length - mismatched} of ${streams.length} equal the uninterrupted answer`);
    for (const f of faults) {
      if (f.kind === 'SIGKILL') console.log(`  SIGKILL ${f.engine.padEnd(8)} at ${(f.at / 1000).toFixed(1)} s: RUNNING again after ${f.healedAt !== undefined ? fmt(f.healedAt - f.at) : 'never'} (seen: ${(f.sawState ?? []).join(' → ') || '-'})`);
      else console.log(`  SIGSTOP ${f.engine.padEnd(8)} at ${(f.at / 1000).toFixed(1)} s for ${fmt((f.until ?? f.at) - f.at)}`);
    }
    console.log(`  drained (outliers)   ${drains.size === 0 ? 'none' : [...drains].map(([id, why]) => `${id} at ${why}`).join('; ')}`);
    const heals = faults.filter((f) => f.kind === 'SIGKILL' && f.healedAt !== undefined).map((f) => f.healedAt - f.at);
    console.log(`  heal time            max ${fmt(Math.max(...heals))}, median ${fmt(pct(heals, 50))} (target: within 3 s of the exit)`);
    const line = (rs) => `p50 ${fmt(pct(lat(rs), 50))}, p99 ${fmt(pct(lat(rs), 99))} (${lat(rs).length} requests)`;
    console.log(`  non-streaming e2e    before faults: ${line(json.filter(before))}; during faults: ${line(json.filter(during))}`);
    console.log(`  streaming e2e        before faults: ${line(streamed.filter(before))}; during faults: ${line(streamed.filter(during))}`);
  } finally {
    for (const pid of stopped) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone
      }
    }
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    rmSync(sageHome, { recursive: true, force: true });
  }
}

if (process.argv.includes('--serve')) {
  serve().catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
