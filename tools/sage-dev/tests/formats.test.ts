// Report formats and the command line contract (exit codes, usage errors).
import { makeWorkspace, removeWorkspaces, runChecker } from './helpers';

afterAll(removeWorkspaces);

describe('report formats', () => {
  let root: string;
  beforeAll(() => {
    root = makeWorkspace('upward-import');
  });

  test('text (the default): counts first, then each violation with severity, type, file:line, rule and suggestion', () => {
    const { code, stdout } = runChecker(['architecture', 'check', '--root', root]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/Files checked\s+10\n/);
    expect(stdout).toMatch(/Tools checked\s+1\n/);
    expect(stdout).toMatch(/Import violations \(upward\)\s+1\n/);
    expect(stdout).toMatch(/Circular dependencies\s+0\n/);
    expect(stdout).toContain('ERROR upward-import  packages/common/src/banner.ts:2  [layer-L1/no-upward-import/common]');
    expect(stdout).toContain('suggestion: ');
    expect(stdout.indexOf('Files checked')).toBeLessThan(stdout.indexOf('ERROR'));
    expect(stdout.trimEnd().split('\n').pop()).toBe('FAIL: 1 error(s), 0 warning(s)');
  });

  test('markdown: a count table and a violations table', () => {
    const { code, stdout } = runChecker(['architecture', 'check', '--root', root, '--format', 'markdown']);
    expect(code).toBe(1);
    expect(stdout).toContain('# Architecture check');
    expect(stdout).toContain('**FAIL**: 1 error(s), 0 warning(s)');
    expect(stdout).toContain('| Files checked | 10 |');
    expect(stdout).toContain('| Import violations (upward) | 1 |');
    expect(stdout).toMatch(/\| error \| upward-import \| `packages\/common\/src\/banner\.ts:2` \| `layer-L1\/no-upward-import\/common` \|/);
  });

  test('a clean workspace prints PASS in text and markdown and exits 0', () => {
    const clean = makeWorkspace();
    // json on a clean workspace is covered by fixtures.test.ts
    for (const format of ['text', 'markdown']) {
      const { code, stdout } = runChecker(['architecture', 'check', '--root', clean, '--format', format]);
      expect(code).toBe(0);
      expect(stdout).toMatch(/PASS/);
    }
  });
});

describe('command line', () => {
  test.each([
    [['architecture', 'check', '--format', 'yaml'], /unknown --format "yaml"/],
    [['architecture', 'check', '--changed-only', '--diff', 'HEAD'], /either --changed-only or --diff/],
    [['architecture', 'lint'], /unknown command: architecture lint/],
    [['architecture', 'check', '--no-such-flag'], /Unknown option '--no-such-flag'/],
    [[], /missing command/],
  ])('usage error %j exits 2 with the usage text', (args, message) => {
    const { code, stderr, stdout } = runChecker(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).toContain('Usage: sage-dev architecture check');
    expect(stdout).toBe('');
  });

  test('--help prints usage and exits 0', () => {
    const { code, stdout } = runChecker(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('--changed-only');
  });

  test('a root without nx.json above it is a setup error (exit 2)', () => {
    const { code, stderr } = runChecker(['architecture', 'check']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/no workspace root \(nx\.json\)/);
  });
});
