// --diff REF and --changed-only restrict the report to files changed in git (untracked included).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkJson, makeWorkspace, ofType, removeWorkspaces, runChecker } from './helpers';

afterAll(removeWorkspaces);

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', '-c', 'commit.gpgsign=false', ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });

describe('--diff / --changed-only', () => {
  let root: string;
  beforeAll(() => {
    // Commit a workspace that already has an upward import, then add a same-layer import on top.
    root = makeWorkspace('upward-import');
    fs.writeFileSync(path.join(root, '.gitignore'), 'node_modules/\n');
    git(root, 'init', '-q', '-b', 'main');
    git(root, 'add', '.');
    git(root, 'commit', '-q', '-m', 'base');
    fs.writeFileSync(
      path.join(root, 'packages/cli/src/serve.ts'),
      "import { gatewayBanner } from '@sage/gateway';\nexport const serve = () => gatewayBanner({ text: 'x' });\n",
    );
  });

  test('without a scope both violations are reported', () => {
    const { report } = checkJson(root);
    expect(report.violations.map((v) => v.file).sort()).toEqual(['packages/cli/src/serve.ts', 'packages/common/src/banner.ts']);
  });

  test('--changed-only reports only the untracked file', () => {
    const { code, report } = checkJson(root, ['--changed-only']);
    expect(code).toBe(1);
    expect(report.scope).toMatchObject({ mode: 'changed-only', ref: 'HEAD', changedFiles: ['packages/cli/src/serve.ts'] });
    expect(report.summary.filesChecked).toBe(1);
    expect(report.violations.map((v) => `${v.type} ${v.file}`)).toEqual(['same-layer-import packages/cli/src/serve.ts']);
  });

  test('--diff REF covers commits since REF plus the working tree', () => {
    git(root, 'add', '.');
    git(root, 'commit', '-q', '-m', 'cli imports gateway');
    const sinceBase = checkJson(root, ['--diff', 'HEAD~1']);
    expect(sinceBase.code).toBe(1);
    expect(sinceBase.report.violations.map((v) => v.file)).toEqual(['packages/cli/src/serve.ts']);
    // only a file outside the packages changed: nothing to report, although banner.ts still breaks the law
    fs.writeFileSync(path.join(root, 'notes.md'), 'notes\n');
    const nothingChanged = checkJson(root, ['--diff', 'HEAD']);
    expect(nothingChanged.code).toBe(0);
    expect(nothingChanged.report.scope.changedFiles).toEqual(['notes.md']);
    expect(nothingChanged.report.summary.filesChecked).toBe(0);
    expect(nothingChanged.report.violations).toEqual([]);
  });

  test('a cycle is reported when any of its files changed', () => {
    fs.writeFileSync(path.join(root, 'packages/llm-core/src/a.ts'), "import { b } from './b';\nexport const a = (): number => b() + 1;\n");
    fs.writeFileSync(path.join(root, 'packages/llm-core/src/b.ts'), "import { a } from './a';\nexport const b = (): number => a() - 1;\n");
    git(root, 'add', '.');
    git(root, 'commit', '-q', '-m', 'cycle');
    // touch only b.ts; the cycle must still show up
    fs.appendFileSync(path.join(root, 'packages/llm-core/src/b.ts'), '// touched\n');
    const { code, report } = checkJson(root, ['--changed-only']);
    expect(code).toBe(1);
    expect(ofType(report, 'circular-dependency')).toHaveLength(1);
  });

  test('an unknown ref is a setup error (exit 2)', () => {
    const { code, stderr } = runChecker(['architecture', 'check', '--root', root, '--diff', 'no-such-ref']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/git rev-parse/);
  });
});
