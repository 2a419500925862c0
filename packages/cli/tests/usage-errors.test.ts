// Bad input never gets far: an unknown flag, a malformed or invalid config file, an unknown preset or a
// control plane that is not there each give one readable line on stderr and a documented exit code.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort, sage, tempHome } from './helpers';

jest.setTimeout(60_000);

const oneLine = (s: string): string[] => s.trim().split('\n');

describe('usage and configuration errors (built bin)', () => {
  const { home } = tempHome();
  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

  test('an unknown flag: one line naming it, exit 2', async () => {
    const r = await sage(['inference', 'start', '--prot', '9000'], { home });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^sage inference start: unknown option '--prot' \(did you mean --port\?\); see: sage inference start --help$/m);
    expect(r.stdout).toBe('');
    expect(fs.existsSync(path.join(home, 'run', 'sage.pid'))).toBe(false);
  });

  test('an unknown command and a bad value are usage errors too', async () => {
    const cmd = await sage(['inferense', 'status'], { home });
    expect(cmd.code).toBe(2);
    expect(oneLine(cmd.stderr)).toHaveLength(1);
    expect(cmd.stderr).toMatch(/unknown command 'inferense'/);

    const port = await sage(['inference', 'start', '--port', 'eighty'], { home });
    expect(port.code).toBe(2);
    expect(oneLine(port.stderr)).toHaveLength(1);
    expect(port.stderr).toMatch(/--port.*expected a whole number/);
  });

  test('a malformed config file (not YAML): one line with the file and the line, exit 2', async () => {
    const file = path.join(home, 'broken.yaml');
    fs.writeFileSync(file, 'port: 8000\nhost: [127.0.0.1\nlogLevel: info\n');
    const r = await sage(['inference', 'start', '--background', '--config', file], { home });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain(`config file ${file} is not valid YAML or JSON`);
    expect(fs.existsSync(path.join(home, 'run', 'sage.pid'))).toBe(false);
  });

  test('a config file with a wrong type or an unknown key names it, exit 2', async () => {
    const wrongType = path.join(home, 'wrong-type.json');
    fs.writeFileSync(wrongType, JSON.stringify({ port: 'eighty', schedulingPolicy: 'fastest' }));
    const a = await sage(['inference', 'start', '--config', wrongType], { home });
    expect(a.code).toBe(2);
    expect(oneLine(a.stderr)).toHaveLength(1);
    expect(a.stderr).toMatch(/port: .*number/);
    expect(a.stderr).toMatch(/schedulingPolicy: .*adaptive/);

    const unknownKey = path.join(home, 'unknown-key.yaml');
    fs.writeFileSync(unknownKey, 'prot: 9000\n');
    const b = await sage(['inference', 'config', 'show', '--config', unknownKey], { home });
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/unknown key "prot"/);

    const missing = await sage(['inference', 'start', '--config', path.join(home, 'nope.yaml')], { home });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read it \(ENOENT\)/);
  });

  test('config set validates the key and the value and saves for the next start', async () => {
    const bad = await sage(['inference', 'config', 'set', '--key', 'port', '--value', 'abc'], { home });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/port: expected a number, got "abc"/);
    const unknown = await sage(['inference', 'config', 'set', '--key', 'colour', '--value', 'blue'], { home });
    expect(unknown.code).toBe(2);

    const ok = await sage(['inference', 'config', 'set', '--key', 'scheduling_policy', '--value', 'priority'], { home });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/set schedulingPolicy = "priority"/);
    const backends = await sage(['inference', 'config', 'set', '--key', 'llmBackends', '--value', 'http://a:1/v1, http://b:2/v1'], { home });
    expect(backends.code).toBe(0);
    const show = await sage(['inference', 'config', 'show', '--json'], { home });
    // Bare URLs as saved; shown as the declarations they stand for, each value with its source.
    expect(JSON.parse(show.stdout)).toMatchObject({ schedulingPolicy: 'priority', llmBackends: [{ url: 'http://a:1/v1' }, { url: 'http://b:2/v1' }], port: 8000, sources: { schedulingPolicy: 'file', port: 'default' } });
    const removed = await sage(['inference', 'config', 'set', '--key', 'llmBackends', '--value', ''], { home });
    expect(removed.stdout).toMatch(/removed llmBackends/);
  });

  test('an unknown preset is a usage error before anything starts', async () => {
    const r = await sage(['inference', 'start', '--preset', 'no-such-preset'], { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no preset "no-such-preset".*default/);
    const show = await sage(['llm', 'preset', 'show', 'no-such-preset'], { home });
    expect(show.code).toBe(2);
  });

  test('llm commands with no control plane at the address: one line, exit 3', async () => {
    const port = await freePort();
    const r = await sage(['llm', 'engine', 'list', '--api-base', `http://127.0.0.1:${port}/v1`], { home });
    expect(r.code).toBe(3);
    expect(oneLine(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain(`cannot reach the sage control plane at http://127.0.0.1:${port}`);
  });

  test('presets are listed and planned offline (--json for scripts)', async () => {
    const list = await sage(['llm', 'preset', 'list', '--json'], { home });
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { presets: { name: string }[] }).presets.map((p) => p.name)).toContain('default');

    const dry = await sage(['llm', 'preset', 'apply', 'sim-pd', '--dry-run', '--json'], { home });
    expect(dry.code).toBe(0);
    const { plan } = JSON.parse(dry.stdout) as { plan: { engines: { name: string; instanceType: string }[] } };
    expect(plan.engines.map((e) => e.instanceType)).toEqual(['PREFILLING', 'DECODING', 'EMBEDDING']);
  });

  test('with --json an error is one JSON document on stderr, with the same exit code', async () => {
    const usage = await sage(['llm', 'preset', 'list', '--json', '--bogus'], { home });
    expect(usage.code).toBe(2);
    expect(usage.stdout).toBe('');
    expect(oneLine(usage.stderr)).toHaveLength(1);
    expect(JSON.parse(usage.stderr)).toEqual({
      error: { message: "sage llm preset list: unknown option '--bogus'; see: sage llm preset list --help", code: 'usage', exitCode: 2 },
    });

    const port = await freePort();
    const down = await sage(['llm', 'engine', 'list', '--json', '--api-base', `http://127.0.0.1:${port}/v1`], { home });
    expect(down.code).toBe(3);
    expect(JSON.parse(down.stderr)).toMatchObject({ error: { code: 'not_running', exitCode: 3 } });

    // Without --json the same error stays a line for a person.
    const plain = await sage(['llm', 'preset', 'list', '--bogus'], { home });
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/^sage llm preset list: unknown option '--bogus'/);
  });

  test('--no-color is accepted by every command, before or after the subcommand', async () => {
    for (const args of [['--no-color', 'llm', 'preset', 'list'], ['llm', 'preset', 'list', '--no-color'], ['inference', 'config', 'show', '--no-color']]) {
      const r = await sage(args, { home });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
  });

  test('--version and -V print the package version', async () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await sage([flag], { home });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${version}\n`);
    }
  });

  test('--help works everywhere and exits 0', async () => {
    for (const args of [['--help'], ['inference', '--help'], ['inference', 'stop', '--help'], ['llm', 'engine', 'start', '--help'], ['gateway', '--help']]) {
      const r = await sage(args, { home });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: sage/);
    }
  });
});
