// One HTTP edge: the control plane, a simulated engine and the gateway answer the same bad requests with the
// same status, OpenAI error code and param (they share @sage/common/http), so a client handles them once.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { startControlPlaneServer, type RunningControlPlane } from '@sage/llm-core';
import { buildSimLlmApp } from '@sage/sim-engines';
import { createGateway, type Gateway } from '../src';
import { removeTemps, tempDir } from './helpers';

const LIMIT = 64 * 1024;
const servers: Record<string, string> = {};
let cp: RunningControlPlane;
let sim: FastifyInstance;
let gateway: Gateway;

beforeAll(async () => {
  cp = await startControlPlaneServer({ port: 0, preset: false, bodyLimit: LIMIT, auth: { apiKeys: [] }, runtime: { sageHome: tempDir('sage-cp-') } });
  servers['control plane'] = cp.url;
  sim = buildSimLlmApp({ model: 'parity-sim', bodyLimitBytes: LIMIT }).app;
  await sim.listen({ host: '127.0.0.1', port: 0 });
  servers['sim-llm'] = `http://127.0.0.1:${(sim.server.address() as AddressInfo).port}`;
  // Bad requests are refused before the gateway looks for a model server: none is needed.
  gateway = await createGateway({ dataDir: tempDir(), bodyLimit: LIMIT, llm: { baseUrl: 'http://127.0.0.1:9/v1', model: 'none' } });
  servers.gateway = (await gateway.listen({ port: 0 })).url;
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await sim?.close();
  await cp?.close(2000);
  removeTemps();
});

interface Case {
  name: string;
  path?: string;
  body: string;
  contentType?: string;
  status: number;
  code: string;
  param?: string;
}

const cases: Case[] = [
  { name: 'malformed JSON', body: '{"model": "m", "messages": [', status: 400, code: 'invalid_json' },
  { name: 'an empty JSON body', body: '', status: 400, code: 'invalid_json' },
  { name: 'a body that is not JSON', body: 'model=m', contentType: 'text/plain', status: 415, code: 'unsupported_media_type' },
  { name: 'a body over the limit', body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x'.repeat(LIMIT) }] }), status: 413, code: 'request_too_large' },
  { name: 'a JSON array', body: '[1, 2]', status: 400, code: 'invalid_type' },
  { name: 'no messages', body: JSON.stringify({ model: 'm' }), status: 400, code: 'missing_required_parameter', param: 'messages' },
  { name: 'messages of the wrong type', body: JSON.stringify({ model: 'm', messages: 'hi' }), status: 400, code: 'invalid_type', param: 'messages' },
  { name: 'an unknown route', path: '/v1/nowhere', body: '{}', status: 404, code: 'route_not_found' },
];

describe.each(cases)('$name', (c) => {
  it.each(['control plane', 'sim-llm', 'gateway'])(`%s answers ${c.status} ${c.code} in OpenAI shape`, async (server) => {
    const res = await fetch(`${servers[server]}${c.path ?? '/v1/chat/completions'}`, {
      method: 'POST',
      headers: { 'content-type': c.contentType ?? 'application/json' },
      body: c.body,
    });
    const body = (await res.json()) as { error: Record<string, unknown> };
    expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect({ status: res.status, code: body.error.code, param: body.error.param, type: body.error.type }).toEqual({
      status: c.status,
      code: c.code,
      param: c.param ?? null,
      type: c.status === 404 ? 'not_found_error' : 'invalid_request_error',
    });
  });
});
