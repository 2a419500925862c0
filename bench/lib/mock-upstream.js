#!/usr/bin/env node
// A mock OpenAI-compatible engine that answers at once, so that what a relay in front of it costs is all that is
// measured. node:http only (no framework): its own cost stays far below any relay's. Chat answers are fixed;
// streamed answers send `--chunks` chunks `--gap-ms` apart (the first at once), each carrying in its content the
// time it was written (ms, performance.timeOrigin + now(): comparable across processes on one machine), so a client
// can tell how long each chunk took to reach it.
//
//   node bench/lib/mock-upstream.js [--port 0] [--chunks 32] [--gap-ms 1]   prints {"port":N} when listening
'use strict';
const http = require('node:http');
const { performance } = require('node:perf_hooks');

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const PORT = arg('port', 0);
const CHUNKS = arg('chunks', 32);
const GAP_MS = arg('gap-ms', 1);
const MODEL = 'mock-model';

const completion = JSON.stringify({
  id: 'chatcmpl-mock',
  object: 'chat.completion',
  created: 1700000000,
  model: MODEL,
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! How can I help you today?' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 9, completion_tokens: 9, total_tokens: 18 },
});
const models = JSON.stringify({ object: 'list', data: [{ id: MODEL, object: 'model', created: 1700000000, owned_by: 'mock', sage_kind: 'llm' }] });

const chunk = (content, finish) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-mock', object: 'chat.completion.chunk', created: 1700000000, model: MODEL, choices: [{ index: 0, delta: finish ? {} : { content }, finish_reason: finish ?? null }] })}\n\n`;

function stream(res, usage) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let i = 0;
  const next = () => {
    if (res.destroyed) return;
    res.write(chunk(`${(performance.timeOrigin + performance.now()).toFixed(3)} `));
    if (++i < CHUNKS) return void setTimeout(next, GAP_MS);
    res.write(chunk(undefined, 'stop'));
    if (usage) res.write(`data: ${JSON.stringify({ id: 'chatcmpl-mock', object: 'chat.completion.chunk', created: 1700000000, model: MODEL, choices: [], usage: { prompt_tokens: 9, completion_tokens: CHUNKS, total_tokens: 9 + CHUNKS } })}\n\n`);
    res.end('data: [DONE]\n\n');
  };
  next();
}

const server = http.createServer((req, res) => {
  const parts = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', () => {
    const url = req.url.split('?')[0];
    if (req.method === 'GET' && (url === '/v1/models' || url === '/models')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(models);
    }
    if (req.method === 'GET' && url === '/health') return void res.end('ok');
    if (req.method === 'POST' && url.endsWith('/chat/completions')) {
      let body;
      try {
        body = JSON.parse(Buffer.concat(parts).toString('utf8'));
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        return void res.end('{"error":{"message":"bad json","type":"invalid_request_error","param":null,"code":null}}');
      }
      if (body.stream) return stream(res, body.stream_options?.include_usage === true);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(completion) });
      return void res.end(completion);
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"not found","type":"invalid_request_error","param":null,"code":null}}');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(PORT, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
process.on('SIGTERM', () => process.exit(0));
