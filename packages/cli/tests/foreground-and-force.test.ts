// The foreground control plane (what `npm start` runs) stops cleanly on Ctrl-C; `stop --force` kills the
// server and every engine at once.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { alive, freePort, killAll, SAGE_BIN, sage, tempHome, waitGone, type StatusJson } from './helpers';

jest.setTimeout(180_000);

function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no ${pattern} in output within ${timeoutMs} ms:\n${text}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      if (pattern.test(text)) {
        clearTimeout(timer);
        resolve(text);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ${pattern}:\n${text}`));
    });
  });
}

describe('foreground start and forced stop (built bin)', () => {
  const seen = new Set<number>();
  const homes: string[] = [];
  const children: ChildProcess[] = [];

  afterAll(async () => {
    for (const home of homes) if ([...seen].some(alive)) await sage(['inference', 'stop', '--force'], { home });
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    killAll(seen);
    for (const home of homes) fs.rmSync(home, { recursive: true, force: true });
  });

  test('foreground: serves until SIGINT, then drains, stops its engines and exits 0', async () => {
    const { home, configFile } = tempHome();
    homes.push(home);
    const port = await freePort();
    const child = spawn(process.execPath, [SAGE_BIN, 'inference', 'start', '--port', String(port), '--config', configFile], {
      env: { ...process.env, SAGE_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    seen.add(child.pid!);
    const text = await waitForOutput(child, /sage is serving an OpenAI-compatible API at (\S+)/, 90_000);
    expect(text).toContain(`http://127.0.0.1:${port}/v1`);
    // Output is not a terminal: pino JSON lines, and the same log also lands in SAGE_HOME.
    expect(fs.readFileSync(path.join(home, 'logs', 'sage.log'), 'utf8')).toMatch(/"msg":"sage control plane ready"/);

    const status = JSON.parse((await sage(['inference', 'status', '--json'], { home })).stdout) as StatusJson;
    expect(status.pid).toBe(child.pid);
    expect(status.engines.every((e) => e.state === 'RUNNING')).toBe(true);
    const pids = [child.pid!, ...status.engines.map((e) => e.pid!)];
    pids.forEach((p) => seen.add(p));

    const second = await sage(['inference', 'start', '--port', String(await freePort()), '--config', configFile], { home });
    expect(second.code).toBe(4);

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(await waitGone(pids, 2000)).toEqual([]);
    expect(fs.existsSync(path.join(home, 'run', 'sage.pid'))).toBe(false);
  });

  test('stop --force kills the server and its engines at once', async () => {
    const { home, configFile } = tempHome();
    homes.push(home);
    const port = await freePort();
    const start = await sage(['inference', 'start', '--background', '--port', String(port), '--config', configFile], { home });
    expect(start.code).toBe(0);
    const status = JSON.parse((await sage(['inference', 'status', '--json'], { home })).stdout) as StatusJson;
    const pids = [status.pid, ...status.engines.map((e) => e.pid!)];
    expect(pids).toHaveLength(3);
    pids.forEach((p) => seen.add(p));

    const r = await sage(['inference', 'stop', '--force'], { home });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/killed sage \(pid \d+\) and 2 engine processes/);
    expect(await waitGone(pids, 2000)).toEqual([]);
    expect((await sage(['inference', 'status'], { home })).code).toBe(3);

    // The next start in the same SAGE_HOME finds the dead engines in the state file and starts fresh ones.
    const again = await sage(['inference', 'start', '--background', '--port', String(port), '--config', configFile], { home });
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    const s2 = JSON.parse((await sage(['inference', 'status', '--json'], { home })).stdout) as StatusJson;
    [s2.pid, ...s2.engines.map((e) => e.pid!)].forEach((p) => seen.add(p));
    expect(s2.engines.map((e) => e.state)).toEqual(['RUNNING', 'RUNNING']);
    expect((await sage(['inference', 'stop'], { home })).code).toBe(0);
  });
});
