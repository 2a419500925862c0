// `--llm-backend URL` registers a server started elsewhere instead of starting built-in engines; requests to
// the control plane reach it.
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { alive, freePort, killAll, sage, tempHome, waitGone, type StatusJson } from './helpers';

jest.setTimeout(120_000);

describe('sage inference start --llm-backend (built bin)', () => {
  const { home, configFile } = tempHome();
  let backend: http.Server;
  let backendUrl: string;
  const seen = new Set<number>();
  const received: string[] = [];

  beforeAll(async () => {
    // A minimal OpenAI-compatible LLM server, the way a vLLM started by hand would look from outside.
    backend = http.createServer((req, res) => {
      received.push(`${req.method} ${req.url}`);
      res.setHeader('content-type', 'application/json');
      if (req.url === '/v1/models') return res.end(JSON.stringify({ object: 'list', data: [{ id: 'ext-model', object: 'model', created: 0, owned_by: 'test' }] }));
      if (req.url === '/health') return res.end('{}');
      if (req.url === '/v1/chat/completions' && req.method === 'POST') {
        req.resume();
        req.on('end', () =>
          res.end(
            JSON.stringify({
              id: 'c1',
              object: 'chat.completion',
              created: 0,
              model: 'ext-model',
              choices: [{ index: 0, message: { role: 'assistant', content: 'from the external backend' }, finish_reason: 'stop' }],
              usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
            }),
          ),
        );
        return;
      }
      res.statusCode = 404;
      res.end('{"error":{"message":"not found"}}');
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}/v1`;
  });

  afterAll(async () => {
    if ([...seen].some(alive)) await sage(['inference', 'stop', '--force'], { home });
    killAll(seen);
    await new Promise((r) => backend.close(r));
    fs.rmSync(home, { recursive: true, force: true });
  });

  test('registers the backend, starts no built-in engine, and routes chat to it', async () => {
    const port = await freePort();
    const start = await sage(['inference', 'start', '--background', '--port', String(port), '--config', configFile, '--llm-backend', backendUrl], { home });
    expect(start.stderr).toBe('');
    expect(start.code).toBe(0);
    expect(start.stdout).toMatch(/backends\s+\S+ \(ext-model\)/);

    const status = JSON.parse((await sage(['inference', 'status', '--json'], { home })).stdout) as StatusJson & { backends: { models: string[] }[] };
    seen.add(status.pid);
    expect(status.engines).toEqual([]);
    expect(status.backends.map((b) => b.models)).toEqual([['ext-model']]);

    const client = new OpenAI({ baseURL: status.apiBase, apiKey: 'unused' });
    const res = await client.chat.completions.create({ model: 'ext-model', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.choices[0]!.message.content).toBe('from the external backend');
    expect(received).toContain('POST /v1/chat/completions');

    const stop = await sage(['inference', 'stop'], { home });
    expect(stop.code).toBe(0);
    expect(await waitGone([status.pid], 2000)).toEqual([]);
  });
});
