// The packages as a user gets them: `npm pack` of every workspace package, the tarballs installed into empty
// folders with `npm install --offline` (workspace dependencies resolve to the tarballs, never a registry), and
// the installed code run there, in child processes whose only node_modules is that folder's.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT, installOffline, packWorkspace, writeInstallFolder, type Packed } from './offline-install';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sage-packaging-'));
let packed: Packed[] = [];

beforeAll(() => {
  packed = packWorkspace(path.join(work, 'packs'));
}, 60_000);

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** Every file path a manifest field points at ("./dist/index.js" -> "dist/index.js"). */
function targets(value: unknown): string[] {
  if (typeof value === 'string') return [value.replace(/^\.\//, '')];
  if (value && typeof value === 'object') return Object.values(value).flatMap(targets);
  return [];
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node ...argv` in `cwd` with a clean environment (no SAGE_*, OPENAI_* or NODE_OPTIONS from this process). */
function runNode(cwd: string, argv: string[], env: Record<string, string>, timeoutMs: number): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(SAGE_|OPENAI_|NODE_OPTIONS$|NODE_PATH$)/.test(k)));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { cwd, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The last stdout line as JSON, or a failure that shows what the child printed. */
function result<T>(r: Run): T {
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    if (r.code === 0) return JSON.parse(last) as T;
  } catch {
    /* reported below */
  }
  throw new Error(`child exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
}

describe('every workspace package packs as a publishable tarball', () => {
  test('no package is private, and each names its license, repository and supported Node versions', () => {
    expect(packed.length).toBeGreaterThanOrEqual(5);
    const root = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
    for (const p of packed) {
      expect({ name: p.name, private: p.manifest.private }).toEqual({ name: p.name, private: undefined });
      expect(p.manifest).toMatchObject({
        license: 'Apache-2.0',
        repository: { type: 'git', directory: p.dir },
        engines: { node: root.engines.node },
        publishConfig: { access: 'public' },
      });
      // one repository for all of them
      expect((p.manifest.repository as { url: string }).url).toBe((packed[0].manifest.repository as { url: string }).url);
    }
    expect(packed.map((p) => p.name)).toEqual(expect.arrayContaining(['@sage/common', '@sage/llm-core', '@sage/gateway', '@sage/cli', '@sage/dev-tools']));
  });

  test('a tarball holds every file its manifest points at, its README, and no tests or build caches', () => {
    for (const p of packed) {
      const files = new Set(p.files);
      const pointedAt = targets([p.manifest.main, p.manifest.types, p.manifest.exports, p.manifest.bin]).filter((t) => !t.includes('*'));
      expect({ name: p.name, missing: pointedAt.filter((t) => !files.has(t)) }).toEqual({ name: p.name, missing: [] });
      expect(files.has('README.md')).toBe(true);
      expect({ name: p.name, unwanted: p.files.filter((f) => /^tests\/|\.tsbuildinfo$|(^|\/)jest\.config|(^|\/)tsconfig.*\.json$|(^|\/)project\.json$/.test(f)) }).toEqual({
        name: p.name,
        unwanted: [],
      });
      if (String(p.manifest.types ?? '').startsWith('./dist/')) {
        // built packages ship type declarations next to the JavaScript (@sage/dev-tools ships plain JS and a
        // hand-written src/index.d.ts, which the check above finds in the tarball)
        expect(p.files.filter((f) => f.startsWith('dist/') && f.endsWith('.d.ts')).length).toBeGreaterThan(0);
      }
    }
  });

  test('each README starts with its install line and a usage example of at most five lines, then explains', () => {
    for (const p of packed) {
      const readme = fs.readFileSync(path.join(REPO_ROOT, p.dir, 'README.md'), 'utf8');
      const lines = readme.split('\n').filter((l) => !l.startsWith('# ') && l.trim() !== '');
      // ```sh / npm install @sage/x ... / ``` , then the example's own code block
      expect({ name: p.name, install: lines.slice(0, 3) }).toEqual({
        name: p.name,
        install: ['```sh', expect.stringMatching(new RegExp(`^npm install (?:\\S+ )*${p.name.replace('/', '\\/')}(?:\\s|$)`)), '```'],
      });
      expect({ name: p.name, opens: lines[3] }).toEqual({ name: p.name, opens: expect.stringMatching(/^```(ts|js|sh)$/) });
      const close = lines.indexOf('```', 4);
      const exampleLines = close - 4;
      expect({ name: p.name, exampleLines, fits: exampleLines >= 1 && exampleLines <= 5 }).toMatchObject({ fits: true });
    }
  });
});

describe('installed from the tarballs alone, offline', () => {
  let server: http.Server;
  let port = 0;
  const seen: string[] = [];

  beforeAll(async () => {
    // a tiny OpenAI-compatible endpoint: one model, and chat completions that echo the last message
    server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url}`);
        res.setHeader('content-type', 'application/json');
        if (req.method === 'GET' && req.url === '/v1/models') {
          res.end(JSON.stringify({ object: 'list', data: [{ id: 'tiny-echo', object: 'model', created: 0, owned_by: 'test' }] }));
          return;
        }
        if (req.method === 'POST' && req.url === '/v1/chat/completions') {
          const body = JSON.parse(raw) as { model: string; messages: Array<{ content: string }> };
          const content = `echo: ${body.messages[body.messages.length - 1].content}`;
          res.end(
            JSON.stringify({
              id: 'chatcmpl-1',
              object: 'chat.completion',
              created: Math.floor(Date.now() / 1000),
              model: body.model,
              choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop', logprobs: null }],
              usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
            }),
          );
          return;
        }
        res.statusCode = 404;
        res.end(JSON.stringify({ error: { message: `no route ${req.url}`, type: 'not_found', param: null, code: 'not_found' } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('@sage/common alone finds the endpoint it is pointed at and chats with it', async () => {
    const dir = path.join(work, 'common-alone');
    writeInstallFolder(dir, packed, ['@sage/common']);
    installOffline(dir);
    expect(fs.readdirSync(path.join(dir, 'node_modules', '@sage'))).toEqual(['common']);

    const script = `
      const { IntelligentLLMClient } = require('@sage/common');
      (async () => {
        const detected = await IntelligentLLMClient.detectConfig();
        const llm = await IntelligentLLMClient.createAuto();
        const text = await llm.chat([{ role: 'user', content: 'ping' }], { maxTokens: 8 });
        console.log(JSON.stringify({ text, detected, entry: require.resolve('@sage/common') }));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const r = await runNode(dir, ['-e', script], { SAGE_CHAT_BASE_URL: `http://127.0.0.1:${port}/v1` }, 30_000);
    const out = result<{ text: string; detected: { baseUrl: string; modelName: string }; entry: string }>(r);
    expect(out.text).toBe('echo: ping');
    expect(out.detected).toMatchObject({ baseUrl: expect.stringContaining(`127.0.0.1:${port}`), modelName: 'tiny-echo' });
    expect(out.entry).toBe(path.join(dir, 'node_modules', '@sage', 'common', 'dist', 'index.js'));
    expect(seen).toContain('POST /v1/chat/completions');
  }, 90_000);

  test('@sage/llm-core with @sage/sim-engines runs an embedded chat and stops every engine it started', async () => {
    const dir = path.join(work, 'llm-core');
    // the built-in engines are their own package once packages/sim-engines exists; before, they ship in llm-core
    const wanted = ['@sage/llm-core', ...packed.filter((p) => p.name === '@sage/sim-engines').map((p) => p.name)];
    writeInstallFolder(dir, packed, wanted);
    installOffline(dir);
    const installed = fs.readdirSync(path.join(dir, 'node_modules', '@sage')).map((d) => `@sage/${d}`);
    // what they need and nothing more: @sage/common comes along as llm-core's dependency
    expect(installed.sort()).toEqual([...new Set([...wanted, '@sage/common'])].sort());

    const base = 10000 + Math.floor(Math.random() * 250) * 40;
    const ranges = { llm: { start: base, end: base + 14 }, embedding: { start: base + 15, end: base + 29 }, fallback: { start: base + 30, end: base + 39 } };
    const script = `
      const { UnifiedInferenceClient } = require('@sage/llm-core');
      (async () => {
        const client = await UnifiedInferenceClient.create({ embedded: true, simTimeScale: 0.05, portRanges: JSON.parse(process.argv[1]), stateRoot: process.cwd() });
        let out;
        try {
          const text = await client.chat([{ role: 'user', content: 'Hello' }], { maxTokens: 8 });
          const pids = (await client.getInstances()).map((i) => i.pid);
          out = { text, pids, mode: client.mode, entry: require.resolve('@sage/llm-core') };
        } finally {
          await client.close();
        }
        console.log(JSON.stringify(out));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const r = await runNode(dir, ['-e', script, JSON.stringify(ranges)], {}, 60_000);
    const out = result<{ text: string; pids: number[]; mode: string; entry: string }>(r);
    expect(out.mode).toBe('embedded');
    expect(out.text.length).toBeGreaterThan(0);
    expect(out.entry).toBe(path.join(dir, 'node_modules', '@sage', 'llm-core', 'dist', 'index.js'));
    expect(out.pids.length).toBeGreaterThan(0);
    for (const pid of out.pids) {
      // close() stopped every engine it started
      expect(() => process.kill(pid, 0)).toThrow();
    }
  }, 90_000);

  test('all of them install side by side from their tarballs, and their commands start', async () => {
    const dir = path.join(work, 'everything');
    const wanted = packed.map((p) => p.name);
    writeInstallFolder(dir, packed, wanted);
    installOffline(dir);
    const installed = fs.readdirSync(path.join(dir, 'node_modules', '@sage')).map((d) => `@sage/${d}`);
    expect(installed.sort()).toEqual([...wanted].sort());
    for (const name of installed) {
      // real folders from the tarballs, not links back into the workspace
      expect(fs.lstatSync(path.join(dir, 'node_modules', name)).isSymbolicLink()).toBe(false);
    }
    const bins = packed.flatMap((p) => Object.keys((p.manifest.bin as Record<string, string> | undefined) ?? {}));
    expect(bins).toEqual(expect.arrayContaining(['sage', 'sage-gateway', 'sage-dev']));
    const runs = await Promise.all(
      bins.map(async (name) => ({ name, run: await runNode(dir, [path.join(dir, 'node_modules', '.bin', name), '--help'], {}, 30_000) })),
    );
    for (const { name, run } of runs) {
      expect({ name, code: run.code, stderr: run.stderr }).toEqual({ name, code: 0, stderr: '' });
      expect({ name, usage: /usage/i.test(run.stdout) }).toEqual({ name, usage: true });
    }
  }, 90_000);
});
