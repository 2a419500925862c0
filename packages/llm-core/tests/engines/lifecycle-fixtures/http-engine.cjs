// A tiny stand-in engine for lifecycle tests: an HTTP server with /health and /v1/models, plus switches
// to misbehave the ways real engines do (crash on boot, ignore SIGTERM, leave a grandchild, answer 503).
//   node http-engine.cjs --port P [--model M] [--crash-if-exists FILE] [--ignore-sigterm]
//        [--grandchild-pid-file FILE] [--unhealthy] [--start-delay-ms N] [--exit-immediately CODE]
const { setTimeout } = require('node:timers');
const http = require('node:http');
const fs = require('node:fs');
const { spawn } = require('node:child_process');

const argv = process.argv.slice(2);
const opt = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const flag = (name) => argv.includes(name);

const port = Number(opt('--port'));
const model = opt('--model') || 'fixture-model';
const exitNow = opt('--exit-immediately');
if (exitNow !== undefined) {
  console.error(`fixture: exiting at once with code ${exitNow}`);
  process.exit(Number(exitNow));
}
const marker = opt('--crash-if-exists');
if (marker) {
  if (fs.existsSync(marker)) {
    console.error(`fixture: ${marker} exists, crashing on boot`);
    process.exit(3);
  }
  fs.writeFileSync(marker, String(process.pid));
}
if (flag('--ignore-sigterm')) process.on('SIGTERM', () => console.error('fixture: ignoring SIGTERM'));
const grandchildFile = opt('--grandchild-pid-file');
if (grandchildFile) {
  const g = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  fs.writeFileSync(grandchildFile, String(g.pid));
}

const server = http.createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(flag('--unhealthy') ? 503 : 200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ status: flag('--unhealthy') ? 'unhealthy' : 'ok' }));
  }
  if (req.url === '/v1/models') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ object: 'list', data: [{ id: model, object: 'model', owned_by: 'fixture' }] }));
  }
  res.writeHead(404).end();
});
setTimeout(() => {
  server.listen(port, '127.0.0.1', () => console.log(JSON.stringify({ event: 'listening', port, pid: process.pid, env_cuda: process.env.CUDA_VISIBLE_DEVICES ?? null })));
}, Number(opt('--start-delay-ms') || 0));
