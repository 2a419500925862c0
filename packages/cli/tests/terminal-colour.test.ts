// What a person sees in a real terminal: the built bin runs under a pseudo-terminal (util-linux `script`), so it
// draws its spinner and coloured marks; NO_COLOR (non-empty) and --no-color leave every colour code out.
/* eslint-disable no-control-regex -- this test reads the escape sequences a terminal receives */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { alive, freePort, killAll, SAGE_BIN, sage, tempHome, type StatusJson } from './helpers';

jest.setTimeout(180_000);

const SCRIPT = '/usr/bin/script';
if (spawnSync(SCRIPT, ['--version']).status !== 0) throw new Error(`${SCRIPT} (util-linux) is needed to run the CLI in a pseudo-terminal`);

/** Any SGR sequence (colour, bold, reset …): ESC [ params m. Cursor moves and line clears end in other letters. */
const SGR = /\x1b\[[0-9;]*m/;
/** Frames of the spinner (braille dots). */
const FRAME = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;

const quote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;

/** Runs `sage ARGS` in a pseudo-terminal 120 columns wide; resolves its exit code and every byte it drew. */
function inTerminal(args: string[], env: Record<string, string>): Promise<{ code: number | null; screen: string }> {
  // A terminal a person uses: no CI marker, no forced colour, a real width (script's own pty reports 0 columns).
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !['CI', 'FORCE_COLOR', 'NO_COLOR', 'NODE_DISABLE_COLORS'].includes(k)));
  const command = `stty cols 120 rows 40; exec ${[process.execPath, SAGE_BIN, ...args].map(quote).join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn(SCRIPT, ['-q', '-e', '-c', command, '/dev/null'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...base, SHELL: '/bin/sh', TERM: 'xterm-256color', SAGE_API_BASE: '', ...env },
    });
    let screen = '';
    child.stdout.on('data', (d: Buffer) => (screen += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (screen += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, screen }));
  });
}

describe('sage in a terminal (pseudo-terminal, built bin, real processes)', () => {
  const { home, configFile } = tempHome();
  const seen = new Set<number>();
  let port: number;

  const remember = async (): Promise<void> => {
    const r = await sage(['inference', 'status', '--json'], { home });
    if (r.code !== 0) return;
    const s = JSON.parse(r.stdout) as StatusJson;
    seen.add(s.pid);
    for (const e of s.engines) if (e.pid) seen.add(e.pid);
  };

  beforeAll(async () => {
    port = await freePort();
  });

  afterAll(async () => {
    if ([...seen].some(alive)) await sage(['inference', 'stop', '--force'], { home });
    killAll(seen);
    fs.rmSync(home, { recursive: true, force: true });
  });

  const start = ['inference', 'start', '--background', '--config', configFile];

  test('NO_COLOR=1: start --background draws its spinner and result without a colour code', async () => {
    const r = await inTerminal([...start, '--port', String(port)], { SAGE_HOME: home, NO_COLOR: '1' });
    await remember();
    expect(r.code).toBe(0);
    expect(r.screen).toMatch(FRAME);
    expect(r.screen).toMatch(/✔ sage is running \(pid \d+\)/);
    expect(r.screen).toContain(`OpenAI API   http://127.0.0.1:${port}/v1`);
    expect(r.screen).not.toMatch(SGR);
  });

  test('--no-color: stop draws its spinner and result without a colour code', async () => {
    const r = await inTerminal(['inference', 'stop', '--no-color'], { SAGE_HOME: home });
    expect(r.code).toBe(0);
    expect(r.screen).toMatch(FRAME);
    expect(r.screen).toMatch(/✔ sage stopped/);
    expect(r.screen).not.toMatch(SGR);
  });

  test('the same commands without NO_COLOR colour the spinner and the marks (an empty NO_COLOR does not count)', async () => {
    const up = await inTerminal([...start, '--port', String(port)], { SAGE_HOME: home, NO_COLOR: '' });
    await remember();
    expect(up.code).toBe(0);
    expect(up.screen).toMatch(/\x1b\[36m[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/); // cyan spinner
    expect(up.screen).toMatch(/\x1b\[32m✔\x1b\[39m sage is running/); // green mark

    const down = await inTerminal(['inference', 'stop'], { SAGE_HOME: home });
    expect(down.code).toBe(0);
    expect(down.screen).toMatch(/\x1b\[32m✔\x1b\[39m sage stopped/);
  });
});
