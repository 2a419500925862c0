// Child processes for the benchmarks: each server runs alone in its own process, so the load generator (the
// benchmark's own process) and the servers never share an event loop. Every child is killed when the benchmark
// ends, however it ends.
'use strict';
const { spawn } = require('node:child_process');
const { readFileSync } = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const { request } = require('undici');

const children = new Set();
function killAll() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
process.on('exit', killAll);
for (const s of ['SIGINT', 'SIGTERM']) {
  process.on(s, () => {
    killAll();
    process.exit(130);
  });
}

/** A port free right now on 127.0.0.1 (for servers that take no port 0). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts `node args…`; resolves with the child once `ready(child)` resolves (killed if it fails or times out). */
async function startNode(name, args, { env, ready, timeoutMs = 60_000, stdout = 'ignore' } = {}) {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', stdout, 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const exited = new Promise((_, reject) => child.once('exit', (code, sig) => reject(new Error(`${name} exited (${code ?? sig}) before it was ready: ${stderr.trim()}`))));
  let timer;
  const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${name} not ready within ${timeoutMs} ms: ${stderr.trim()}`)), timeoutMs)));
  try {
    await Promise.race([ready(child), exited, timeout]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  } finally {
    clearTimeout(timer);
  }
  exited.catch(() => undefined);
  child.stop = (signal = 'SIGTERM', graceMs = 15_000) => stop(child, signal, graceMs);
  return child;
}

/** Waits for the first stdout line `{"port":N}` of a child started with stdout 'pipe'. */
function portLine(child) {
  return new Promise((resolve) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const m = /\{"port":(\d+)\}/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
  });
}

/** Polls `url` until it answers 2xx. */
async function untilUp(url, { headers, intervalMs = 100 } = {}) {
  for (;;) {
    try {
      const res = await request(url, { headers, headersTimeout: 2000, bodyTimeout: 2000 });
      await res.body.dump();
      if (res.statusCode < 300) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function stop(child, signal, graceMs) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(t);
      children.delete(child);
      resolve();
    });
    child.kill(signal);
  });
}

/** Resident set size of a process, bytes (Linux /proc). */
function rssOf(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** CPU time (user + system) of a process so far, ms (Linux /proc). */
function cpuMsOf(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

function machine() {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    cpu: `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores`,
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    node: process.version,
    load: os.loadavg().map((l) => l.toFixed(1)).join(' '),
  };
}

module.exports = { freePort, startNode, portLine, untilUp, rssOf, cpuMsOf, machine };
