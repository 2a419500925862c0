// Replicas from the command line: `sage inference start --state-store redis://…` (or SAGE_STATE_STORE) shares
// state between two control planes, and `sage llm engine register` puts an engine into rotation on all of them.
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort, killAll, sage, tempHome } from './helpers';
import { startRedis } from './redis-server';

jest.setTimeout(120_000);

interface Health {
  state_store: string;
  replica?: { id: string };
  instances: { id: string; models: string[] }[];
}

const oneLine = (s: string): string[] => s.trim().split('\n');

describe('sage inference start --state-store (built bin)', () => {
  const a = tempHome();
  const b = tempHome();
  const pids = new Set<number>();
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let backend: http.Server;
  let backendUrl: string;
  let urlA: string;
  let urlB: string;

  beforeAll(async () => {
    redis = await startRedis();
    backend = http.createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/v1/models') return res.end(JSON.stringify({ object: 'list', data: [{ id: 'ext-model', object: 'model', created: 0, owned_by: 'test' }] }));
      res.statusCode = 404;
      res.end('{"error":{"message":"not found"}}');
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}/v1`;
  });

  afterAll(async () => {
    await Promise.all([sage(['inference', 'stop'], { home: a.home }), sage(['inference', 'stop'], { home: b.home })]);
    killAll(pids);
    await new Promise((r) => backend.close(r));
    await redis.stop();
    for (const h of [a, b]) fs.rmSync(h.home, { recursive: true, force: true });
  });

  test('a state store that is not redis://HOST:PORT[/DB] is a usage error before anything starts', async () => {
    const r = await sage(['inference', 'start', '--preset', 'none', '--state-store', 'http://127.0.0.1:6379'], { home: a.home });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/stateStore: unsupported scheme "http"; expected redis:\/\/HOST:PORT\[\/DB\]/);
    const env = await sage(['inference', 'start', '--preset', 'none'], { home: a.home, env: { SAGE_STATE_STORE: 'redis://127.0.0.1:6379/99' } });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/environment: SAGE_STATE_STORE: database 99 is out of range 0-15/);
  });

  test('two replicas (flag and environment) share what `sage llm engine register` registers through one', async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const startA = await sage(['inference', 'start', '--background', '--preset', 'none', '--port', String(portA), '--config', a.configFile, '--state-store', redis.url], { home: a.home });
    expect(startA.stderr).toBe('');
    expect(startA.code).toBe(0);
    const startB = await sage(['inference', 'start', '--background', '--preset', 'none', '--port', String(portB), '--config', b.configFile], { home: b.home, env: { SAGE_STATE_STORE: redis.url } });
    expect(startB.code).toBe(0);
    urlA = `http://127.0.0.1:${portA}`;
    urlB = `http://127.0.0.1:${portB}`;
    for (const home of [a.home, b.home]) {
      const st = JSON.parse((await sage(['inference', 'status', '--json'], { home })).stdout) as { pid: number };
      pids.add(st.pid);
    }
    const [hA, hB] = (await Promise.all([fetch(`${urlA}/health`), fetch(`${urlB}/health`)].map(async (p) => (await p).json()))) as Health[];
    expect([hA.state_store, hB.state_store]).toEqual(['ok', 'ok']);
    expect(hA.replica?.id).not.toBe(hB.replica?.id);
    expect((await fetch(`${urlB}/health/ready`)).status).toBe(200);
    const status = await sage(['inference', 'status'], { home: a.home });
    expect(status.stdout).toMatch(/state\s+shared \(redis:\/\/127\.0\.0\.1:\d+\/0\) · ok · replica \S+/);

    const reg = await sage(['llm', 'engine', 'register', '--url', backendUrl, '--model', 'ext-model', '--max-concurrent', '4', '--id', 'ext', '--wait', '5', '--api-base', urlA], { home: a.home });
    expect(reg.stderr).toBe('');
    expect(reg.code).toBe(0);
    expect(reg.stdout).toMatch(/registered ext: .* serving ext-model \(at most 4 concurrent requests\)/);

    const deadline = Date.now() + 1000;
    let models: string[] = [];
    while (Date.now() < deadline && !models.includes('ext-model')) {
      models = ((await (await fetch(`${urlB}/v1/models`)).json()) as { data: { id: string }[] }).data.map((m) => m.id);
      if (!models.includes('ext-model')) await new Promise((r) => setTimeout(r, 50));
    }
    expect(models).toContain('ext-model');

    // Registering again (an engine pod restarting its sidecar) is fine with --exists-ok, an error without.
    const again = await sage(['llm', 'engine', 'register', '--url', backendUrl, '--model', 'ext-model', '--id', 'ext', '--exists-ok', '--api-base', urlB], { home: b.home });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already registered/);
    const dup = await sage(['llm', 'engine', 'register', '--url', backendUrl, '--model', 'ext-model', '--id', 'ext', '--api-base', urlB], { home: b.home });
    expect(dup.code).toBe(1);
    expect(oneLine(dup.stderr)).toHaveLength(1);
    expect(dup.stderr).toMatch(/already registered/);
  });

  test('register: a bad URL is a usage error; an engine that never answers is a failure naming it', async () => {
    const bad = await sage(['llm', 'engine', 'register', '--url', 'ftp://x', '--model', 'm', '--api-base', urlA], { home: a.home });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--url: "ftp:\/\/x" is not an http\(s\) URL/);
    const silent = `http://127.0.0.1:${await freePort()}/v1`;
    const wait = await sage(['llm', 'engine', 'register', '--url', silent, '--model', 'm', '--wait', '1', '--api-base', urlA], { home: a.home });
    expect(wait.code).toBe(1);
    expect(oneLine(wait.stderr)).toHaveLength(1);
    expect(wait.stderr).toContain(`the engine at ${silent} did not answer GET /v1/models or /health within 1s`);
  });
});
