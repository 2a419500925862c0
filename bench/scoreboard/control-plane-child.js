#!/usr/bin/env node
// One control plane for one scoreboard run, in its own process so that the load generator and the server do
// not share an event loop (the storm workloads measure the server's). Config as JSON in argv[2]:
//   { policy, router, scheduler: {…ControlPlaneManagerOptions}, backends: [{ baseUrl, kind, models, maxConcurrency }] }
// Prints one JSON line {"url": …} once it listens; stops on SIGTERM or when stdin closes.
/* global require, process */
'use strict';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain CommonJS script run with node
const { startControlPlaneServer } = require('@sage/llm-core');

async function main() {
  const cfg = JSON.parse(process.argv[2]);
  const cp = await startControlPlaneServer({
    port: 0,
    preset: false,
    policy: cfg.policy,
    router: cfg.router,
    runtime: { scheduler: cfg.scheduler ?? {} },
  });
  for (const b of cfg.backends) await cp.runtime.registerBackend(b);
  process.stdout.write(JSON.stringify({ url: cp.url }) + '\n');
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    cp.close(2000).finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
}

main().catch((err) => {
  process.stderr.write(`control plane failed: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
