// The API report: checkApiReport (what every package's tests/api-report.test.ts calls) and `sage-dev api-report`,
// on a throw-away workspace whose package is "built" plain CommonJS, loaded by a real node process.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkApiReport } from '../src';
import { removeWorkspaces, runChecker, tempDir } from './helpers';

/** A workspace with packages/demo: entry "." exports alpha and beta, entry "./extra" exports gamma. */
function demoWorkspace(): { root: string; pkg: string; report: string } {
  const root = tempDir('api-report');
  fs.writeFileSync(path.join(root, 'nx.json'), '{}\n');
  const pkg = path.join(root, 'packages', 'demo');
  fs.mkdirSync(path.join(pkg, 'dist'), { recursive: true });
  fs.writeFileSync(
    path.join(pkg, 'package.json'),
    JSON.stringify({ name: '@demo/pkg', exports: { '.': './dist/index.js', './extra': './dist/extra.js', './package.json': './package.json' } }),
  );
  fs.writeFileSync(path.join(pkg, 'dist', 'index.js'), 'exports.beta = 2; exports.alpha = 1;\n');
  fs.writeFileSync(path.join(pkg, 'dist', 'extra.js'), 'exports.gamma = 3;\n');
  return { root, pkg, report: path.join(pkg, 'api', 'exports.txt') };
}

afterAll(removeWorkspaces);

describe('checkApiReport', () => {
  it('writes the report with update, sorted per entry point, and then matches it', () => {
    const { pkg, report } = demoWorkspace();
    const written = checkApiReport(pkg, { update: true });
    expect(written).toMatchObject({ packageName: '@demo/pkg', entries: ['@demo/pkg', '@demo/pkg/extra'], updated: true, problems: [] });
    const body = fs.readFileSync(report, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(body).toEqual(['[@demo/pkg]', 'alpha', 'beta', '[@demo/pkg/extra]', 'gamma']);
    expect(checkApiReport(pkg).problems).toEqual([]);
  });

  it('names what was added and what was removed, per entry point', () => {
    const { pkg } = demoWorkspace();
    checkApiReport(pkg, { update: true });
    fs.writeFileSync(path.join(pkg, 'dist', 'index.js'), 'exports.alpha = 1; exports.delta = 4;\n');
    const { problems, updated } = checkApiReport(pkg);
    expect(updated).toBe(false);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('@demo/pkg no longer matches');
    expect(problems[0]).toContain('exported but not listed: delta');
    expect(problems[0]).toContain('listed but no longer exported: beta');
    expect(problems[0]).toContain('UPDATE_API_REPORT=1');
  });

  it('reports a section for an entry point the package no longer declares, and an entry point with no section', () => {
    const { pkg, report } = demoWorkspace();
    checkApiReport(pkg, { update: true });
    fs.appendFileSync(report, '\n[@demo/pkg/gone]\nomega\n');
    const manifest = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8'));
    manifest.exports['./more'] = './dist/extra.js';
    fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify(manifest));
    const { problems } = checkApiReport(pkg);
    expect(problems.join('\n')).toContain('@demo/pkg/more no longer matches');
    expect(problems.join('\n')).toContain('the report has no section for this entry point');
    expect(problems.join('\n')).toContain('does not declare in package.json "exports": @demo/pkg/gone');
  });

  it('says to build first when the package cannot be loaded', () => {
    const { pkg } = demoWorkspace();
    fs.rmSync(path.join(pkg, 'dist'), { recursive: true });
    expect(() => checkApiReport(pkg)).toThrow(/cannot load the built @demo\/pkg \(run npm run build first\)/);
  });
});

describe('sage-dev api-report', () => {
  it('update writes the named package report; check finds every package with one, passes, then fails on a change with exit 1', () => {
    const { root, pkg, report } = demoWorkspace();
    const updated = runChecker(['api-report', 'update', '--root', root, pkg]);
    expect(updated.stderr).toBe('');
    expect(updated.code).toBe(0);
    expect(updated.stdout).toContain('@demo/pkg (packages/demo): rewrote packages/demo/api/exports.txt');
    expect(fs.existsSync(report)).toBe(true);
    expect(runChecker(['api-report', 'check', '--root', root])).toMatchObject({ code: 0 });

    fs.writeFileSync(path.join(pkg, 'dist', 'extra.js'), 'exports.gamma = 3; exports.epsilon = 5;\n');
    const failed = runChecker(['api-report', 'check', '--root', root]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('exported but not listed: epsilon');
    expect(failed.stdout).toContain('npx sage-dev api-report update packages/demo');
  });

  it('rejects an unknown mode with exit 2', () => {
    const { root } = demoWorkspace();
    const wrong = runChecker(['api-report', 'verify', '--root', root]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('api-report needs check or update, not verify');
  });

  it('exits 2 with one line when there is no package with a report', () => {
    const root = tempDir('api-report-empty');
    fs.writeFileSync(path.join(root, 'nx.json'), '{}\n');
    const r = runChecker(['api-report', 'check', '--root', root]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^sage-dev: no package with api\/exports\.txt under /);
  });
});
