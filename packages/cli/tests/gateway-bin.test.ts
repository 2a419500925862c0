// `sage gateway` finds the gateway's own executable without importing the package, and says so plainly when
// there is none.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findGatewayBin } from '../src';
import { alive, freePort, killAll, sage, waitGone } from './helpers';

describe('sage gateway', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sage-gw-test-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('finds an executable sage-gateway on PATH, ignores a non-executable one', () => {
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    const file = path.join(bin, 'sage-gateway');
    fs.writeFileSync(file, '#!/bin/sh\n', { mode: 0o644 });
    expect(findGatewayBin({ PATH: bin }, dir)).toBeUndefined();
    fs.chmodSync(file, 0o755);
    expect(findGatewayBin({ PATH: bin }, dir)).toBe(file);
  });

  test('finds node_modules/.bin/sage-gateway above the CLI', () => {
    const nm = path.join(dir, 'ws', 'node_modules', '.bin');
    fs.mkdirSync(nm, { recursive: true });
    fs.writeFileSync(path.join(nm, 'sage-gateway'), '#!/bin/sh\n', { mode: 0o755 });
    expect(findGatewayBin({ PATH: '' }, path.join(dir, 'ws', 'packages', 'cli', 'dist'))).toBe(path.join(nm, 'sage-gateway'));
  });

  test('status with no gateway running exits 3 (--json for scripts)', async () => {
    const r = await sage(['gateway', 'status', '--json'], { home: dir });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(JSON.parse(r.stderr)).toMatchObject({ error: { message: expect.stringMatching(/^sage: the gateway is not running/), code: 'not_running', exitCode: 3 } });
    const stop = await sage(['gateway', 'stop'], { home: dir });
    expect(stop.code).toBe(3);
    expect(stop.stderr).toMatch(/^sage: the gateway is not running$/m);
  });
});

describe('sage gateway start|status|stop (with a stand-in sage-gateway executable)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sage-gw-proc-'));
  const bin = path.join(dir, 'sage-gateway');
  const argsFile = path.join(dir, 'args.json');
  let pid: number | undefined;

  beforeAll(() => {
    // Listens where it is told and records how it was started: what the CLI promises the real gateway.
    fs.writeFileSync(
      bin,
      `#!${process.execPath}
const http = require('node:http');
const a = process.argv.slice(2);
const port = Number(a[a.indexOf('--port') + 1]);
require('node:fs').writeFileSync(${JSON.stringify(argsFile)}, JSON.stringify({ args: a, unified: process.env.SAGE_UNIFIED_BASE_URL }));
const srv = http.createServer((q, r) => r.end('ok')).listen(port, '127.0.0.1');
process.on('SIGTERM', () => srv.close(() => process.exit(0)));
`,
      { mode: 0o755 },
    );
  });

  afterAll(() => {
    if (pid !== undefined) killAll([pid]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('starts it in the background, reports it, stops it', async () => {
    const env = { SAGE_GATEWAY_BIN: bin };
    const port = await freePort();
    const start = await sage(['gateway', 'start', '--port', String(port), '--api-base', 'http://127.0.0.1:8123', '--', '--llm-model', 'm1'], { home: dir, env });
    expect(start.stderr).toBe('');
    expect(start.code).toBe(0);
    expect(start.stdout).toContain(`the gateway is running`);
    const recorded = JSON.parse(fs.readFileSync(argsFile, 'utf8')) as { args: string[]; unified: string };
    expect(recorded.args).toEqual(['--port', String(port), '--host', '127.0.0.1', '--llm-model', 'm1']);
    expect(recorded.unified).toBe('http://127.0.0.1:8123/v1');

    const status = await sage(['gateway', 'status', '--json'], { home: dir, env });
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout) as { running: boolean; pid: number; url: string };
    expect(s).toMatchObject({ running: true, url: `http://127.0.0.1:${port}` });
    pid = s.pid;
    expect(alive(pid)).toBe(true);

    const twice = await sage(['gateway', 'start', '--port', String(port)], { home: dir, env });
    expect(twice.code).toBe(4);

    const stop = await sage(['gateway', 'stop'], { home: dir, env });
    expect(stop.code).toBe(0);
    expect(stop.stdout).toMatch(/the gateway stopped \(pid \d+\)/);
    expect(await waitGone([pid], 2000)).toEqual([]);
  });

  test('passes the retrieval settings on as the gateway\'s own flags, before the ones after --', async () => {
    const env = { SAGE_GATEWAY_BIN: bin };
    const port = await freePort();
    const start = await sage(
      ['gateway', 'start', '--port', String(port), '--retrieval', 'hybrid', '--vector-weight', '0.5', '--fulltext-weight', '2', '--rrf-k', '10', '--', '--llm-model', 'm1'],
      { home: dir, env },
    );
    expect(start.stderr).toBe('');
    expect(start.code).toBe(0);
    const recorded = JSON.parse(fs.readFileSync(argsFile, 'utf8')) as { args: string[] };
    expect(recorded.args).toEqual(['--port', String(port), '--host', '127.0.0.1', '--retrieval', 'hybrid', '--vector-weight', '0.5', '--fulltext-weight', '2', '--rrf-k', '10', '--llm-model', 'm1']);
    const status = await sage(['gateway', 'status', '--json'], { home: dir, env });
    pid = (JSON.parse(status.stdout) as { pid: number }).pid;
    const stop = await sage(['gateway', 'stop'], { home: dir, env });
    expect(stop.code).toBe(0);
    expect(await waitGone([pid], 2000)).toEqual([]);
    pid = undefined;
  });

  test('bad retrieval settings: one line, exit 2, and no gateway started', async () => {
    const env = { SAGE_GATEWAY_BIN: bin };
    fs.rmSync(argsFile, { force: true });
    const cases: Array<[string[], RegExp]> = [
      [['--retrieval', 'keyword'], /^sage gateway start: .*--retrieval <mode>.*keyword.*hybrid, vector, fulltext/m],
      [['--rrf-k', 'ten'], /^sage gateway start: .*--rrf-k <k>.*expected a number of 0 or more/m],
      [['--fulltext-weight=-1'], /^sage gateway start: .*--fulltext-weight <w>.*expected a number of 0 or more/m],
      [['--vector-weight', '0', '--fulltext-weight', '0'], /^sage: --vector-weight and --fulltext-weight cannot both be 0$/m],
    ];
    for (const [flags, message] of cases) {
      const r = await sage(['gateway', 'start', '--port', String(await freePort()), ...flags], { home: dir, env });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(fs.existsSync(argsFile)).toBe(false);
  });

  test('a missing executable: "not installed", exit 1', async () => {
    const r = await sage(['gateway', 'start'], { home: dir, env: { SAGE_GATEWAY_BIN: path.join(dir, 'nope') } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^sage: sage gateway is not installed \(SAGE_GATEWAY_BIN=.* is not an executable\)$/m);
  });
});
