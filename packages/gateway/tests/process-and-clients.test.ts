// The gateway as its own process (the sage-gateway bin), the lazy model clients found through the L1
// clients' detection (F-505), and streaming details: sessions and a client that goes away mid-stream.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import OpenAI from 'openai';
import { createGateway, type Gateway } from '../src';
import { parseCli } from '../src/main';
import { removeTemps, startControlPlane, tempDir, type ControlPlane } from './helpers';

const BIN = path.join(__dirname, '..', 'bin', 'sage-gateway.js');
const DOCS = [
  { id: 'otters', text: '# Otters\n\nSea otters hold hands while they sleep so they do not drift apart.' },
  { id: 'bees', text: '# Bees\n\nHoney bees communicate the direction of flowers with a waggle dance.' },
  { id: 'owls', text: '# Owls\n\nOwls can rotate their heads about 270 degrees.' },
];

let cp: ControlPlane;
const gateways: Gateway[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  cp = await startControlPlane();
}, 60_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const g of gateways) await g.close();
  await cp?.stop();
  removeTemps();
});

interface Exchange {
  path: string;
  body: unknown;
  response: string;
}

interface Proxy {
  url: string;
  /** What passed through, responses as the proxy's client received them. */
  exchanges: Exchange[];
  /** When set, each response is read whole and rewritten before it is passed on. */
  rewrite?: (response: string) => string;
  close(): Promise<void>;
}

/** An HTTP pass-through to `target` that records each request body and response text. */
async function recordingProxy(target: string): Promise<Proxy> {
  const to = new URL(target);
  const exchanges: Exchange[] = [];
  const server = http.createServer((req, res) => {
    const sent: Buffer[] = [];
    req.on('data', (c: Buffer) => sent.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(sent);
      const exchange: Exchange = { path: req.url ?? '', body: raw.length > 0 ? JSON.parse(raw.toString('utf8')) : undefined, response: '' };
      exchanges.push(exchange);
      const upstream = http.request({ host: to.hostname, port: to.port, path: req.url, method: req.method, headers: { ...req.headers, host: to.host } }, (up) => {
        const rewrite = proxy.rewrite;
        if (rewrite) {
          let text = '';
          up.on('data', (c: Buffer) => (text += c.toString('utf8')));
          up.on('end', () => {
            exchange.response = rewrite(text);
            const { 'content-length': _length, ...headers } = up.headers;
            res.writeHead(up.statusCode ?? 502, headers);
            res.end(exchange.response);
          });
          return;
        }
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.on('data', (c: Buffer) => {
          exchange.response += c.toString('utf8');
          res.write(c);
        });
        up.on('end', () => res.end());
      });
      upstream.on('error', (err) => res.destroy(err));
      upstream.end(raw);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const proxy: Proxy = {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return proxy;
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('sage-gateway bin', () => {
  test('prints a listening line, serves the API, and stops cleanly on SIGTERM', async () => {
    expect(existsSync(path.join(__dirname, '..', 'dist', 'main.js'))).toBe(true); // the test target builds first
    const dataDir = tempDir();
    const child = spawn(process.execPath, [BIN, '--port', '0', '--data-dir', dataDir, '--llm-base-url', cp.url, '--embedding-base-url', cp.url, '--log-level', 'warn'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const events: Record<string, unknown>[] = [];
    const listening = new Promise<Record<string, unknown>>((resolve, reject) => {
      lines.on('line', (l) => {
        const e = JSON.parse(l) as Record<string, unknown>;
        events.push(e);
        if (e.event === 'listening') resolve(e);
      });
      child.on('exit', (code) => reject(new Error(`exited with ${code}: ${stderr}`)));
    });
    const ready = await listening;
    expect(ready).toMatchObject({ event: 'listening', dataDir });
    const url = `http://127.0.0.1:${ready.port as number}`;

    expect((await post(`${url}/v1/rag/ingest`, { documents: DOCS })).json).toMatchObject({ chunks_written: 3 });
    const sdk = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const res = await sdk.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'How do bees communicate the direction of flowers?' }] });
    expect(res.choices[0]?.message.content).toContain('waggle dance');
    expect((res as unknown as { sources: { document_id: string }[] }).sources[0]?.document_id).toBe('bees');

    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(events.map((e) => e.event)).toEqual(['listening', 'stopped']);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  test('bad arguments exit with status 2 and one clear line', async () => {
    const child = spawn(process.execPath, [BIN, '--port', 'eighty'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(stderr).toContain('--port must be an integer');
  });

  test('--version (and -V) prints the package version and exits 0 without starting', async () => {
    const { version } = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const child = spawn(process.execPath, [BIN, flag], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let stdout = '';
      child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
      // 'close' comes after stdout has ended, so every byte printed has been read.
      const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      expect(code).toBe(0);
      expect(stdout).toBe(`${version}\n`);
    }
  });

  test('retrieval flags set the mode and the fusion weights; bad ones exit with status 2', async () => {
    expect(parseCli(['--retrieval', 'vector', '--vector-weight', '0.5', '--fulltext-weight', '2', '--rrf-k', '10']).retrieval).toEqual({ mode: 'vector', vectorWeight: 0.5, fulltextWeight: 2, rrfK: 10 });
    expect(parseCli([]).retrieval).toEqual({});
    expect(() => parseCli(['--vector-weight', '0', '--fulltext-weight', '0'])).toThrow('cannot both be 0');
    expect(() => parseCli(['--fulltext-weight=-1'])).toThrow('--fulltext-weight must be a number of 0 or more');
    const child = spawn(process.execPath, [BIN, '--retrieval', 'keyword'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(stderr).toContain('--retrieval must be hybrid, vector or fulltext, got "keyword"');
  });
});

describe('lazy clients through L1 detection (F-505)', () => {
  test('nothing is detected until first use; then the control plane is found by probing', async () => {
    const port = Number(new URL(cp.url).port);
    // Only the L1 detection options are given: probe 127.0.0.1 on the control plane's port, with no SAGE_* env.
    const gw = await createGateway({ dataDir: tempDir(), detect: { env: {}, hosts: ['127.0.0.1'], llmPorts: [port], embeddingPorts: [port] } });
    gateways.push(gw);
    const { url } = await gw.listen({ port: 0 });
    const before = (await (await fetch(`${url}/health`)).json()) as { models: unknown };
    expect(before.models).toEqual({ llm: null, embedding: null });

    await post(`${url}/v1/rag/ingest`, { documents: DOCS });
    const { status, json } = await post(`${url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'How far can owls rotate their heads?' }] });
    expect(status).toBe(200);
    expect((json.choices as { message: { content: string } }[])[0]?.message.content).toContain('270 degrees');
    const after = (await (await fetch(`${url}/health`)).json()) as { models: Record<string, { baseUrl: string; model: string }> };
    expect(after.models.llm).toEqual({ baseUrl: `${cp.url}/v1`, model: 'sage-sim-llm' });
    expect(after.models.embedding).toEqual({ baseUrl: `${cp.url}/v1`, model: 'sage-sim-embedding' });
  });

  test('with no model server anywhere, requests fail with a 503 that says what was tried', async () => {
    const gw = await createGateway({ dataDir: tempDir(), detect: { env: {}, hosts: ['127.0.0.1'], llmPorts: [1], embeddingPorts: [1], probeTimeoutMs: 500 } });
    gateways.push(gw);
    const { url } = await gw.listen({ port: 0 });
    const { status, json } = await post(`${url}/v1/rag/ingest`, { documents: DOCS });
    expect(status).toBe(503);
    expect(json.error).toMatchObject({ code: 'no_model_endpoint', type: 'server_error' });
    expect((json.error as { message: string }).message).toContain('127.0.0.1:1');
    expect(await gw.pipeline.store.count()).toBe(0);
  });
});

describe('streaming details', () => {
  let url: string;
  beforeAll(async () => {
    const gw = await createGateway({ dataDir: tempDir(), llm: { baseUrl: cp.url }, embedding: { baseUrl: cp.url } });
    gateways.push(gw);
    ({ url } = await gw.listen({ port: 0 }));
    await post(`${url}/v1/rag/ingest`, { documents: DOCS });
  });

  test('concurrent ingests of the same documents store one copy', async () => {
    const gw = gateways[gateways.length - 1] as Gateway;
    const before = await gw.pipeline.store.count();
    const docs = [{ id: 'cats', text: 'Cats sleep for about fifteen hours a day.' }, { id: 'crows', text: 'Crows remember the faces of people.' }];
    const results = await Promise.all([1, 2, 3].map(() => post(`${url}/v1/rag/ingest`, { documents: docs })));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(results.map((r) => r.json.chunks_written).sort()).toEqual([0, 0, 2]);
    expect(await gw.pipeline.store.count()).toBe(before + 2);
  });

  test('a long document is chunked by its sections (one embedding call per server batch, by the L1 client); a fact deep inside is found', async () => {
    const sections = Array.from({ length: 120 }, (_, i) => `## Station ${i}\n\nWeather station ${i} sits at ${1000 + i * 7} metres and logs ${i % 5 === 0 ? 'hail' : 'rain'} daily.`);
    sections[87] = '## Station 87\n\nWeather station 87 is the only one that measures volcanic ash with a quartz resonator.';
    const { status, json } = await post(`${url}/v1/rag/ingest`, { documents: [{ id: 'stations', text: `# Stations\n\n${sections.join('\n\n')}` }] });
    expect(status).toBe(200);
    expect(json.chunks_written).toBe(120); // one chunk per section: sections are never merged
    const q = await post(`${url}/v1/rag/query`, { query: 'Which station measures volcanic ash?', top_k: 1 });
    const hit = (q.json.data as { text: string; heading_path: string[] }[])[0];
    expect(hit?.heading_path).toEqual(['Stations', 'Station 87']);
    expect(hit?.text).toContain('quartz resonator');
  });

  test('a streamed turn is recorded in its session (session_id in the body)', async () => {
    const sdk = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const stream = await sdk.chat.completions.create({ stream: true, messages: [{ role: 'user', content: 'Why do sea otters hold hands?' }], session_id: 'otter-talk' } as unknown as OpenAI.ChatCompletionCreateParamsStreaming);
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    expect(text).toContain('drift apart');
    const session = (await (await fetch(`${url}/v1/sessions/otter-talk`)).json()) as { messages: { role: string; content: string }[] };
    expect(session.messages).toEqual([
      { role: 'user', content: 'Why do sea otters hold hands?' },
      { role: 'assistant', content: text },
    ]);
  });

  test("a streamed answer reports the usage and finish reason the control plane sent, not an estimate", async () => {
    // A recording pass-through in front of the control plane shows what it was asked and what it answered.
    const proxy = await recordingProxy(cp.url);
    try {
      const gw = await createGateway({ dataDir: tempDir(), llm: { baseUrl: proxy.url }, embedding: { baseUrl: cp.url } });
      gateways.push(gw);
      const { url: gwUrl } = await gw.listen({ port: 0 });
      await post(`${gwUrl}/v1/rag/ingest`, { documents: DOCS });
      const sdk = new OpenAI({ baseURL: `${gwUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
      const question = [{ role: 'user' as const, content: 'How far can owls rotate their heads?' }];

      const streamed = async (params: Partial<OpenAI.ChatCompletionCreateParamsStreaming>) => {
        const stream = await sdk.chat.completions.create({ model: 'default', stream: true, messages: question, ...params });
        let usage: OpenAI.CompletionUsage | undefined;
        let finish: string | undefined;
        for await (const c of stream) {
          if (c.usage) usage = c.usage;
          if (c.choices[0]?.finish_reason) finish = c.choices[0].finish_reason;
        }
        const upstream = proxy.exchanges.filter((e) => e.path === '/v1/chat/completions').at(-1);
        const upstreamUsage = upstream?.response
          .split('\n\n')
          .filter((e) => e.startsWith('data: {'))
          .map((e) => JSON.parse(e.slice(6)) as { usage?: OpenAI.CompletionUsage | null })
          .find((c) => c.usage)?.usage;
        return { usage, finish, upstreamBody: upstream?.body as Record<string, unknown> | undefined, upstreamUsage };
      };

      const full = await streamed({ stream_options: { include_usage: true } });
      expect(full.upstreamBody?.stream_options).toEqual({ include_usage: true });
      expect(full.upstreamUsage?.completion_tokens).toBeGreaterThan(0);
      expect(full.usage).toEqual(full.upstreamUsage);
      expect(full.finish).toBe('stop');

      const cut = await streamed({ stream_options: { include_usage: true }, max_tokens: 3 });
      expect(cut.finish).toBe('length');
      expect(cut.usage).toEqual(cut.upstreamUsage);
      expect(cut.usage?.completion_tokens).toBe(3);

      // The sim counts with the tokenizer the gateway estimates with, so the numbers above would match an
      // estimate too; counts the proxy marks (+1000 prompt tokens) show they are passed on, not recomputed.
      proxy.rewrite = (sse) =>
        sse
          .split('\n\n')
          .map((e) => {
            if (!e.startsWith('data: {')) return e;
            const c = JSON.parse(e.slice(6)) as { usage?: OpenAI.CompletionUsage | null };
            if (c.usage) c.usage = { ...c.usage, prompt_tokens: c.usage.prompt_tokens + 1000, total_tokens: c.usage.total_tokens + 1000 };
            return `data: ${JSON.stringify(c)}`;
          })
          .join('\n\n');
      const marked = await streamed({ stream_options: { include_usage: true } });
      expect(marked.upstreamUsage?.prompt_tokens).toBe((full.upstreamUsage?.prompt_tokens ?? 0) + 1000);
      expect(marked.usage).toEqual(marked.upstreamUsage);
      proxy.rewrite = undefined;

      // Not asked for: the gateway asks the model server for nothing extra and sends no usage chunk.
      const plain = await streamed({});
      expect(plain.upstreamBody).not.toHaveProperty('stream_options');
      expect(plain.usage).toBeUndefined();
    } finally {
      await proxy.close();
    }
  });

  test('raw SSE framing: data lines, sources in the last chunk, [DONE]; a client leaving early does not disturb the gateway', async () => {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ stream: true, messages: [{ role: 'user', content: 'What do honey bees do with a waggle dance?' }] }),
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const body = await res.text();
    const events = body.split('\n\n').filter((e) => e.length > 0);
    expect(events.every((e) => e.startsWith('data: '))).toBe(true);
    expect(events[events.length - 1]).toBe('data: [DONE]');
    const last = JSON.parse((events[events.length - 2] as string).slice(6)) as { sources: { document_id: string }[]; choices: { finish_reason: string }[] };
    expect(last.choices[0]?.finish_reason).toBe('stop');
    expect(last.sources[0]?.document_id).toBe('bees');

    const abort = new AbortController();
    const early = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-session-id': 'left-early' },
      body: JSON.stringify({ stream: true, messages: [{ role: 'user', content: 'Tell me about owls.' }] }),
      signal: abort.signal,
    });
    const reader = early.body?.getReader();
    await reader?.read();
    abort.abort();
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
  });
});
