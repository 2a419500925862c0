#!/usr/bin/env node
// The floor: what any Node relay costs. fastify parses the JSON body, undici forwards it over a keep-alive pool
// and the answer goes back as it came (a stream piped through). No validation, queue, scheduling or metrics.
//
//   node bench/lib/pass-through.js --upstream http://127.0.0.1:PORT [--port 0]   prints {"port":N} when listening
'use strict';
const fastify = require('fastify');
const { Pool } = require('undici');

const upstream = process.argv[process.argv.indexOf('--upstream') + 1];
const port = process.argv.includes('--port') ? Number(process.argv[process.argv.indexOf('--port') + 1]) : 0;
const pool = new Pool(upstream, { connections: 128 });
const app = fastify();
app.post('/v1/chat/completions', async (request, reply) => {
  const res = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request.body) });
  return reply.code(res.statusCode).header('content-type', res.headers['content-type']).send(res.body);
});
app.listen({ host: '127.0.0.1', port }).then(() => process.stdout.write(`${JSON.stringify({ port: app.server.address().port })}\n`));
process.on('SIGTERM', () => process.exit(0));
