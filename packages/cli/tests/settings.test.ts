// Settings from every place a user sets them, through the built `sage` bin: SAGE_* variables (port, log level),
// the config file, flags, a preset's control_plane: section; `config show` names each value's source; the
// "serving" banner comes only once every engine runs; --llm-backend carries price, topology and a key.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import OpenAI from 'openai';
import { alive, freePort, killAll, SAGE_BIN, sage, tempHome, waitGone } from './helpers';

jest.setTimeout(120_000);

const LONG_PROMPT = Array.from({ length: 2000 }, (_, i) => `word${i % 97}`).join(' ');

/** The sum of an engine's kv_transfer counters for one leg (prefill or decode), from its /metrics. */
async function kvCounter(port: number, leg: 'prefill' | 'decode'): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => !l.startsWith('#') && /kv_transfer/.test(l.split(/[{ ]/)[0]!) && l.split(/[{ ]/)[0]!.includes(leg))
    .reduce((n, l) => n + Number(l.trim().split(/\s+/).at(-1)), 0);
}

describe('sage inference start in the foreground, configured by the environment', () => {
  const { home, configFile } = tempHome();
  let child: ChildProcess | undefined;
  const seen = new Set<number>();
  afterAll(async () => {
    if (child?.pid && alive(child.pid)) child.kill('SIGKILL');
    killAll(seen);
    fs.rmSync(home, { recursive: true, force: true });
  });

  test('SAGE_PORT and SAGE_LOG_LEVEL=warn with --preset sim-pd: listens there, no info lines, banner only when ready, PD on', async () => {
    const port = await freePort();
    child = spawn(process.execPath, [SAGE_BIN, 'inference', 'start', '--preset', 'sim-pd', '--config', configFile], {
      env: { ...process.env, SAGE_HOME: home, SAGE_API_BASE: '', SAGE_PORT: String(port), SAGE_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child!.on('exit', (code) => r(code)));
    const deadline = Date.now() + 60_000;
    while (!stdout.includes('sage is serving') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 25));
    expect(stderr).toBe('');
    expect(stdout).toContain(`sage is serving an OpenAI-compatible API at http://127.0.0.1:${port}/v1`);

    // The moment the banner is out, everything it promises holds.
    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
    expect(ready.status).toBe(200);
    const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'unused', maxRetries: 0 });
    expect((await client.models.list()).data.map((m) => m.id).sort()).toEqual(['sage-sim-embedding', 'sage-sim-llm']);

    const status = JSON.parse((await sage(['inference', 'status', '--json'], { home })).stdout) as { pid: number; engines: { id: string; port: number; pid: number; type: string }[] };
    seen.add(status.pid);
    for (const e of status.engines) seen.add(e.pid);
    const enginePort = (id: string) => status.engines.find((e) => e.id === id)!.port;
    expect(status.engines.map((e) => [e.id, e.type])).toEqual(expect.arrayContaining([['sim-pd-prefill', 'PREFILLING'], ['sim-pd-decode', 'DECODING']]));

    const before = { p: await kvCounter(enginePort('sim-pd-prefill'), 'prefill'), d: await kvCounter(enginePort('sim-pd-decode'), 'decode') };
    const { data, response } = await client.chat.completions.create({ model: 'sage-sim-llm', messages: [{ role: 'user', content: LONG_PROMPT }], max_tokens: 8 }).withResponse();
    expect(data.choices[0]!.message.content).toBeTruthy();
    expect(response.headers.get('x-sage-prefill-instance')).toBe('sim-pd-prefill');
    expect(response.headers.get('x-sage-instance')).toBe('sim-pd-decode');
    expect(await kvCounter(enginePort('sim-pd-prefill'), 'prefill')).toBe(before.p + 1);
    expect(await kvCounter(enginePort('sim-pd-decode'), 'decode')).toBe(before.d + 1);

    const show = await sage(['inference', 'config', 'show', '--json'], { home });
    expect(show.code).toBe(0);
    const shown = JSON.parse(show.stdout) as { port: number; logLevel: string; pdSeparation: boolean; sources: Record<string, string> };
    expect(shown).toMatchObject({ port, logLevel: 'warn', pdSeparation: true });
    expect(shown.sources).toMatchObject({ port: 'env', logLevel: 'env', pdSeparation: 'preset', preset: 'flag', enginePortBase: 'file', schedulingPolicy: 'default' });

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(await waitGone([...seen], 5000)).toEqual([]);
    // warn: the terminal and the log file have no info (30) or debug lines.
    const levels = [...stdout.split('\n'), ...fs.readFileSync(path.join(home, 'logs', 'sage.log'), 'utf8').split('\n')]
      .filter((l) => l.startsWith('{'))
      .map((l) => (JSON.parse(l) as { level: number }).level);
    expect(levels.filter((l) => l < 40)).toEqual([]);
  });
});

describe('settings errors and sources without a running control plane', () => {
  const { home, configFile } = tempHome({ router: 'round_robin' });
  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

  test('a bad SAGE_* value or --set names itself, exit 2, one line', async () => {
    const env = await sage(['inference', 'start', '--config', configFile], { home, env: { SAGE_PORT: 'eighty' } });
    expect(env.code).toBe(2);
    expect(env.stderr.trim().split('\n')).toHaveLength(1);
    expect(env.stderr).toMatch(/SAGE_PORT: expected a number, got "eighty"/);
    const set = await sage(['inference', 'start', '--config', configFile, '--set', 'colour=blue'], { home });
    expect(set.code).toBe(2);
    expect(set.stderr).toMatch(/--set: unknown setting "colour"/);
    const backend = await sage(['inference', 'start', '--config', configFile, '--llm-backend', 'url=http://h:1/v1,cost=cheap'], { home });
    expect(backend.code).toBe(2);
    expect(backend.stderr).toMatch(/cost: expected a number, got "cheap"/);
    expect(fs.existsSync(path.join(home, 'run', 'sage.pid'))).toBe(false);
  });

  test('config show: defaults < file < environment, each with its source', async () => {
    const r = await sage(['inference', 'config', 'show', '--config', configFile], { home, env: { SAGE_MAX_QUEUE_SIZE: '77', SAGE_ROUTER: 'affinity' } });
    expect(r.code).toBe(0);
    const row = (key: string) => r.stdout.split('\n').find((l) => l.startsWith(`${key} `))?.trim().split(/\s+/);
    expect(row('maxQueueSize')).toEqual(['maxQueueSize', '77', 'env']);
    expect(row('router')).toEqual(['router', 'affinity', 'env']);
    expect(row('enginePortBase')?.[2]).toBe('file');
    expect(row('requestTimeoutMs')).toEqual(['requestTimeoutMs', '60000', 'default']);
  });

  test('queue wait budgets per class: shown with their source, a bad class named', async () => {
    const r = await sage(['inference', 'config', 'show', '--config', configFile], { home, env: { SAGE_QUEUE_WAIT_BUDGET_MS: 'HIGH=500,low=10000' } });
    expect(r.code).toBe(0);
    const row = r.stdout.split('\n').find((l) => l.startsWith('queueWaitBudgetMs '))?.trim().split(/\s+/);
    expect(row).toEqual(['queueWaitBudgetMs', 'HIGH=500,LOW=10000', 'env']);
    const bad = await sage(['inference', 'config', 'show', '--config', configFile], { home, env: { SAGE_QUEUE_WAIT_BUDGET_MS: 'URGENT=5' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/SAGE_QUEUE_WAIT_BUDGET_MS: unknown class "URGENT" \(classes: CRITICAL, HIGH, NORMAL, LOW, BACKGROUND\)/);
  });
});

describe('--llm-backend with attributes (background start)', () => {
  const { home, configFile } = tempHome();
  let backend: http.Server;
  let backendUrl: string;
  const auth: string[] = [];
  const seen = new Set<number>();
  beforeAll(async () => {
    backend = http.createServer((req, res) => {
      auth.push(String(req.headers.authorization));
      res.setHeader('content-type', 'application/json');
      if (req.url === '/health') return res.end('{}');
      req.resume();
      req.on('end', () =>
        res.end(JSON.stringify({ id: 'c', object: 'chat.completion', created: 0, model: 'ext', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } })),
      );
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

  test('model, type, price, topology and API key reach the scheduler; status shows all but the key', async () => {
    const port = await freePort();
    const spec = `url=${backendUrl},model=ext,type=DECODING,cost=2.5,machine=gpu-a,rack=r1,nvlink_group=g1,max_concurrency=4,api_key=sk-cli-secret`;
    const start = await sage(['inference', 'start', '--background', '--port', String(port), '--config', configFile, '--llm-backend', spec, '--router', 'topology_aware'], { home });
    expect(start.stderr).toBe('');
    expect(start.code).toBe(0);
    const statusJson = await sage(['inference', 'status', '--json'], { home });
    const status = JSON.parse(statusJson.stdout) as { pid: number; backends: Record<string, unknown>[] };
    seen.add(status.pid);
    expect(status.backends).toEqual([expect.objectContaining({ models: ['ext'], type: 'DECODING', costPerHour: 2.5, machine: 'gpu-a', rack: 'r1', nvlinkGroup: 'g1', maxConcurrency: 4 })]);
    const table = await sage(['inference', 'status'], { home });
    expect(table.stdout).toMatch(/DECODING\s+ext\s+.*2\.5\/h machine=gpu-a rack=r1 nvlink=g1/);
    const shown = await sage(['inference', 'config', 'show', '--json'], { home });
    for (const text of [statusJson.stdout, table.stdout, shown.stdout, fs.readFileSync(path.join(home, 'run', 'server.json'), 'utf8')]) expect(text).not.toContain('sk-cli-secret');

    const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'unused', maxRetries: 0 });
    expect((await client.chat.completions.create({ model: 'ext', messages: [{ role: 'user', content: 'hi' }] })).choices[0]!.message.content).toBe('ok');
    expect(auth).toContain('Bearer sk-cli-secret');
    expect((await sage(['inference', 'stop'], { home })).code).toBe(0);
    expect(await waitGone([status.pid], 3000)).toEqual([]);
  });
});
