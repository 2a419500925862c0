// The whole life of a control plane driven through the built `sage` bin: nothing running → start in the
// background → status → chat → add an engine → refuse a second start → stop → nothing left.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import OpenAI from 'openai';
import { alive, freePort, killAll, SAGE_BIN, sage, tempHome, waitGone, type StatusJson } from './helpers';

jest.setTimeout(180_000);

describe('sage inference (built bin, real processes)', () => {
  const { home, configFile } = tempHome();
  const seen = new Set<number>();
  let port: number;
  let apiBase: string;

  beforeAll(async () => {
    port = await freePort();
  });

  afterAll(async () => {
    if ([...seen].some(alive)) await sage(['inference', 'stop', '--force'], { home });
    killAll(seen);
    fs.rmSync(home, { recursive: true, force: true });
  });

  test('with nothing running, stop and status say so and exit 3', async () => {
    const stop = await sage(['inference', 'stop'], { home });
    expect(stop.code).toBe(3);
    expect(stop.stderr.trim().split('\n')).toHaveLength(1);
    expect(stop.stderr).toMatch(/not running/);

    const text = await sage(['inference', 'status'], { home });
    expect(text.code).toBe(3);
    expect(text.stdout).toMatch(/^sage is not running/);

    // For a script: nothing on stdout, one JSON error on stderr, the same exit code.
    const status = await sage(['inference', 'status', '--json'], { home });
    expect(status.code).toBe(3);
    expect(status.stdout).toBe('');
    expect(status.stderr.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(status.stderr)).toEqual({ error: { message: expect.stringMatching(/not running/), code: 'not_running', exitCode: 3 } });
  });

  test('start --background returns once healthy and prints the API URL', async () => {
    const r = await sage(['inference', 'start', '--background', '--port', String(port), '--config', configFile], { home });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const url = /OpenAI API\s+(http:\/\/\S+\/v1)/.exec(r.stdout)?.[1];
    expect(url).toBe(`http://127.0.0.1:${port}/v1`);
    apiBase = url!;
    // Not a terminal: plain progress lines instead of a spinner, ending with the success line.
    expect(r.stdout).toMatch(/✔ sage is running \(pid \d+\)/);
    expect(fs.existsSync(`${home}/run/sage.pid`)).toBe(true);
  });

  test('status --json shows the server and its RUNNING engines', async () => {
    const r = await sage(['inference', 'status', '--json'], { home });
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as StatusJson;
    expect(s).toMatchObject({ running: true, health: 'ok', apiBase });
    expect(s.engines.map((e) => e.kind).sort()).toEqual(['sim-embedding', 'sim-llm']);
    for (const e of s.engines) {
      expect(e.state).toBe('RUNNING');
      expect(alive(e.pid!)).toBe(true);
      seen.add(e.pid!);
    }
    seen.add(s.pid);

    const table = await sage(['inference', 'status'], { home });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/ENGINE\s+KIND\s+TYPE\s+MODEL\s+STATE\s+PORT\s+PID\s+RESTARTS\s+PLACEMENT\s+LOAD/);
    expect(table.stdout).toContain(`${port}/v1`);
  });

  test('a chat request to the printed URL answers (openai SDK)', async () => {
    const client = new OpenAI({ baseURL: apiBase, apiKey: 'unused' });
    const res = await client.chat.completions.create({ model: 'sage-sim-llm', messages: [{ role: 'user', content: 'Say hello' }], max_tokens: 8 });
    expect(res.choices[0]!.message.content?.length).toBeGreaterThan(0);
  });

  test('llm engine start adds a second sim-embedding engine, listed and serving', async () => {
    const r = await sage(['llm', 'engine', 'start', 'sage-embed-2', '--engine', 'sim-embedding', '--engine-kind', 'embedding'], { home });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/engine \S+ is RUNNING on port \d+/);

    const list = await sage(['llm', 'engine', 'list', '--json'], { home });
    expect(list.code).toBe(0);
    const { engines } = JSON.parse(list.stdout) as { engines: { id: string; model: string; kind: string; state: string; pid: number }[] };
    const added = engines.find((e) => e.model === 'sage-embed-2');
    expect(added).toMatchObject({ kind: 'sim-embedding', state: 'RUNNING' });
    seen.add(added!.pid);

    const client = new OpenAI({ baseURL: apiBase, apiKey: 'unused' });
    const emb = await client.embeddings.create({ model: 'sage-embed-2', input: ['hello world'] });
    expect(emb.data[0]!.embedding.length).toBeGreaterThan(0);
  });

  test('start while one is running says so and exits 4; nothing new starts', async () => {
    const r = await sage(['inference', 'start', '--background', '--port', String(await freePort()), '--config', configFile], { home });
    expect(r.code).toBe(4);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/already running \(pid \d+/);
  });

  test('config show and logs read the running control plane', async () => {
    const cfg = await sage(['inference', 'config', 'show', '--json'], { home });
    expect(cfg.code).toBe(0);
    expect(JSON.parse(cfg.stdout)).toMatchObject({ port, schedulingPolicy: 'adaptive' });

    const logs = await sage(['inference', 'logs', '--lines', '200'], { home });
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/INFO\s+sage control plane ready/);
  });

  test('llm preset apply starts a preset file; engine stop and prune take it away again', async () => {
    const file = `${home}/extra.yaml`;
    fs.writeFileSync(file, 'version: 1\nname: extra\nengines:\n  - name: small\n    kind: llm\n    engine: sim-llm\n    model: sage-small\n');
    const apply = await sage(['llm', 'preset', 'apply', file], { home });
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(apply.stdout).toMatch(/preset extra applied/);
    expect(apply.stdout).toMatch(/small\s+extra-small\s+sim-llm\s+sage-small\s+RUNNING/);

    const client = new OpenAI({ baseURL: apiBase, apiKey: 'unused' });
    const res = await client.chat.completions.create({ model: 'sage-small', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 });
    expect(res.model).toBe('sage-small');

    const unknown = await sage(['llm', 'engine', 'stop', 'no-such-engine'], { home });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toMatch(/no-such-engine/);

    const list = JSON.parse((await sage(['llm', 'engine', 'list', '--json'], { home })).stdout) as { engines: { id: string; pid: number }[] };
    const pid = list.engines.find((e) => e.id === 'extra-small')!.pid;
    seen.add(pid);
    const stop = await sage(['llm', 'engine', 'stop', 'extra-small', '--drain'], { home });
    expect(stop.code).toBe(0);
    expect(stop.stdout).toMatch(/engine extra-small is STOPPED/);
    expect(await waitGone([pid], 2000)).toEqual([]);
    const prune = await sage(['llm', 'engine', 'prune', '--json'], { home });
    expect(JSON.parse(prune.stdout)).toEqual({ pruned: ['extra-small'] });
  });

  test('logs --follow prints new lines as they are written, until interrupted', async () => {
    const child = spawn(process.execPath, [SAGE_BIN, 'inference', 'logs', '--follow', '--lines', '0'], { env: { ...process.env, SAGE_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (c: Buffer) => (text += c.toString('utf8')));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      // The follower attaches at the end of the file at some moment we cannot observe, so keep making requests
      // (each writes a new log line) until one of them shows up, instead of guessing how long attaching takes.
      const deadline = Date.now() + 20_000;
      while (!/GET \/v1\/models/.test(text) && Date.now() < deadline) {
        await fetch(`${apiBase}/models`);
        const wait = Date.now() + 500;
        while (!/GET \/v1\/models/.test(text) && Date.now() < wait) await new Promise((r) => setTimeout(r, 50));
      }
      expect(text).toMatch(/INFO\s+request completed .*req="GET \/v1\/models" reqId=req-\S+ status=200/);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });

  test('stop is graceful and leaves no process behind', async () => {
    const before = JSON.parse((await sage(['inference', 'status', '--json'], { home })).stdout) as StatusJson;
    const pids = [before.pid, ...before.engines.map((e) => e.pid!)];
    expect(pids).toHaveLength(4);
    pids.forEach((p) => seen.add(p));

    const r = await sage(['inference', 'stop'], { home });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/sage stopped \(pid \d+, 3 engines stopped\)/);
    expect(await waitGone(pids, 2000)).toEqual([]);
    expect(fs.existsSync(`${home}/run/sage.pid`)).toBe(false);

    const again = await sage(['inference', 'status'], { home });
    expect(again.code).toBe(3);
  });
});
