// The relays the overhead benchmarks compare, each started as its own process in front of one mock upstream:
// the mock itself, the floor (fastify + undici pass-through), sage (its CLI, as an operator runs it) and the
// Portkey gateway. Each start resolves to { name, url, headers, child, stop() }.
'use strict';
const { mkdtempSync, rmSync, existsSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');
const { freePort, startNode, portLine, untilUp } = require('./processes');

const ROOT = path.resolve(__dirname, '..', '..');

async function startMock({ chunks = 32, gapMs = 1 } = {}) {
  let port;
  const child = await startNode('mock upstream', [path.join(__dirname, 'mock-upstream.js'), '--chunks', String(chunks), '--gap-ms', String(gapMs)], {
    stdout: 'pipe',
    ready: async (c) => (port = await portLine(c)),
  });
  return { name: 'upstream (mock)', url: `http://127.0.0.1:${port}`, headers: {}, child, stop: () => child.stop() };
}

async function startPassThrough(upstream) {
  let port;
  const child = await startNode('pass-through', [path.join(__dirname, 'pass-through.js'), '--upstream', upstream], {
    stdout: 'pipe',
    ready: async (c) => (port = await portLine(c)),
  });
  return { name: 'pass-through (floor)', url: `http://127.0.0.1:${port}`, headers: {}, child, stop: () => child.stop() };
}

/**
 * sage as `sage inference start --llm-backend URL` starts it: default settings (adaptive policy, load_balanced
 * router, metrics, deadlines, access log at info to stdout and the log file), own SAGE_HOME. `nodeArgs` such as
 * --cpu-prof go to its node process.
 */
async function startSage(upstream, { nodeArgs = [], env = {}, extraArgs = [], root = ROOT, name = 'sage' } = {}) {
  const cli = path.join(root, 'packages/cli/dist/bin/sage.js');
  if (!existsSync(cli)) throw new Error('packages/cli/dist is missing: run `npm run build` first');
  const home = mkdtempSync(path.join(tmpdir(), 'sage-bench-home-'));
  const port = await freePort();
  const child = await startNode('sage', [...nodeArgs, cli, 'inference', 'start', '--llm-backend', `${upstream}/v1`, '--port', String(port), ...extraArgs], {
    env: { SAGE_HOME: home, ...env },
    ready: () => untilUp(`http://127.0.0.1:${port}/health/ready`),
  });
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    headers: {},
    child,
    home,
    async stop() {
      await child.stop('SIGTERM', 30_000);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** The Portkey open-source gateway (npm @portkey-ai/gateway), forwarding to the mock as an OpenAI-compatible custom host. */
async function startPortkey(upstream) {
  const entry = path.join(ROOT, 'node_modules/@portkey-ai/gateway/build/start-server.js');
  if (!existsSync(entry)) throw new Error('@portkey-ai/gateway is not installed: run `npm ci` at the repository root');
  const port = await freePort();
  const child = await startNode('portkey', [entry, `--port=${port}`], { ready: () => untilUp(`http://127.0.0.1:${port}/`) });
  return {
    name: 'Portkey gateway',
    url: `http://127.0.0.1:${port}`,
    headers: { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${upstream}/v1`, authorization: 'Bearer unused' },
    child,
    stop: () => child.stop(),
  };
}

module.exports = { startMock, startPassThrough, startSage, startPortkey, ROOT };
