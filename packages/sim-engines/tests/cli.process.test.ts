// The sage-engine command line: bad arguments and a taken port end the process with one clear line.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MAIN, startEngine } from './spawn-engine';

const BIN = path.resolve(__dirname, '../bin/sage-engine.js');
const run = (args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 20_000 });

describe('sage-engine CLI', () => {
  it('lists both engines in --help (also through the bin shim)', () => {
    const r = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('sim-llm');
    expect(r.stdout).toContain('sim-embedding');
  });

  it('prints the package version with --version', () => {
    const { version } = JSON.parse(readFileSync(path.resolve(__dirname, '../package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = spawnSync(process.execPath, [BIN, flag], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
  });

  it('rejects bad arguments with a non-zero exit and a clear message', () => {
    const cases: Array<[string[], RegExp]> = [
      [['sim-llm', '--model', 'm'], /required option '--port <port>'/],
      [['sim-llm', '--port', '0'], /required option '--model <name>'/],
      [['sim-llm', '--port', 'abc', '--model', 'm'], /port must be an integer/],
      [['sim-llm', '--port', '0', '--model', 'm', '--role', 'boss'], /Allowed choices are general, prefilling, decoding/],
      [['sim-llm', '--port', '0', '--model', 'm', '--time-scale', '0'], /time-scale must be a positive number/],
      [['sim-embedding', '--port', '0', '--model', 'e', '--dimensions', '-3'], /dimensions must be a positive integer/],
      [['sim-gpt', '--port', '0'], /unknown command 'sim-gpt'/],
    ];
    for (const [args, message] of cases) {
      const r = run(args);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).not.toContain('"event":"listening"');
    }
  });

  it('exits 1 when its port is taken', async () => {
    const first = await startEngine('sim-embedding', ['--model', 'e']);
    try {
      const r = run(['sim-llm', '--port', String(first.port), '--model', 'm']);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/cannot listen on 127\.0\.0\.1:\d+/);
    } finally {
      await first.stop();
    }
  });
});
