// Each violation type on a fixture workspace: detected, named with its file and line, and failing the run.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkJsonAsync, inBatches, makeWorkspace, ofType, removeWorkspaces, type Report, type RunResult } from './helpers';

afterAll(removeWorkspaces);

type Run = RunResult & { report: Report };
const runs = new Map<string, Run>();
/** The result of one run, by "<overlay> [flags]"; all runs happen up front, side by side. */
const checkJson = (key: string): Run => {
  const r = runs.get(key);
  if (!r) throw new Error(`no run ${key}`);
  return r;
};

beforeAll(async () => {
  const plan: Array<[string, string | undefined, string[], boolean?]> = [
    ['clean', undefined, []],
    ...['upward-import', 'same-layer-import', 'illegal-dependency', 'module-config', 'internal-import', 'missing-layer', 'circular-dependency', 'undeclared-dependency', 'undeclared-npm-dependency', 'unused-dependency', 'misplaced-dependency', 'declared-twice', 'tools-cycle', 'tools-deep-import', 'undefined-feature-id', 'locate-sibling-bin', 'provided-dependency', 'exported-subpath'].map(
      (o): [string, string, string[]] => [o, o, []],
    ),
    ['declared-twice --strict', 'declared-twice', ['--strict']],
    ['upward-import unlinked', 'upward-import', [], true],
  ];
  const done = await inBatches(
    plan.map(([key, overlay, flags, unlink]) => async () => {
      const root = makeWorkspace(overlay);
      if (unlink) fs.rmSync(path.join(root, 'node_modules'), { recursive: true, force: true });
      return [key, await checkJsonAsync(root, flags)] as const;
    }),
  );
  for (const [key, run] of done) runs.set(key, run);
  // generous: many checker processes on a small shared machine
}, 180_000);

describe('sage-dev architecture check on fixture workspaces', () => {
  test('a clean workspace passes with every count at zero', () => {
    const { code, report } = checkJson('clean');
    expect(report.violations).toEqual([]);
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.summary.packagesChecked).toBe(4);
    expect(report.summary.toolsChecked).toBe(1);
    // src of four packages plus common/tests, and the src of tools/notes
    expect(report.summary.filesChecked).toBe(9);
    expect(Object.values(report.summary.byType).every((n) => n === 0)).toBe(true);
    expect(report.packages.map((p) => `${p.name}:${p.layer}`).sort()).toEqual([
      '@sage/cli:L6',
      '@sage/common:L1',
      '@sage/gateway:L6',
      '@sage/llm-core:L2',
    ]);
  });

  test('upward import: L1 importing L6', () => {
    const { code, report } = checkJson('upward-import');
    expect(code).toBe(1);
    expect(report.summary.byType['upward-import']).toBe(1);
    expect(ofType(report, 'upward-import')).toEqual([
      expect.objectContaining({
        severity: 'error',
        file: 'packages/common/src/banner.ts',
        line: 2,
        rule: 'layer-L1/no-upward-import/common',
        message: expect.stringContaining("'@sage/gateway'"),
      }),
    ]);
  });

  test('same-layer import: cli importing gateway (both L6)', () => {
    const { code, report } = checkJson('same-layer-import');
    expect(code).toBe(1);
    expect(ofType(report, 'same-layer-import')).toEqual([
      expect.objectContaining({ severity: 'error', file: 'packages/cli/src/serve.ts', line: 2, rule: 'layer-L6/no-same-layer-import/cli' }),
    ]);
    expect(ofType(report, 'upward-import')).toEqual([]);
  });

  test('illegal package.json dependency: L2 declaring an L6 package', () => {
    const { code, report } = checkJson('illegal-dependency');
    expect(code).toBe(1);
    expect(ofType(report, 'illegal-dependency')).toEqual([
      expect.objectContaining({
        severity: 'error',
        file: 'packages/llm-core/package.json',
        line: 11,
        rule: 'package-deps/no-upward',
        message: expect.stringContaining('"@sage/cli"'),
      }),
    ]);
  });

  test('module configuration errors: dangling exports/bin targets, missing types, tsconfig.lib.json and build target', () => {
    const { code, report } = checkJson('module-config');
    expect(code).toBe(1);
    const found = ofType(report, 'module-config').map((v) => `${v.file} ${v.rule}`);
    expect(found.sort()).toEqual(
      [
        'packages/cli/package.json module-config/tsconfig-lib',
        'packages/cli/project.json module-config/build-target',
        'packages/gateway/package.json module-config/entry-fields',
        'packages/gateway/package.json module-config/target-exists',
        'packages/gateway/package.json module-config/target-exists',
        'packages/gateway/package.json module-config/target-exists',
      ].sort(),
    );
    const targets = ofType(report, 'module-config').filter((v) => v.rule === 'module-config/target-exists');
    expect(targets.map((v) => v.message).sort()).toEqual([
      'bin["sage-gateway"] points to "./bin/sage-gateway.js", which does not exist',
      'exports["."]["default"] points to "./dist/main.js", which does not exist and is not built from any src/ file (looked for src/main.ts)',
      'exports["."]["sage-source"] points to "./src/main.ts", which does not exist',
    ]);
    // the untouched packages (dist not built, src present) are fine
    expect(report.violations.every((v) => /^packages\/(cli|gateway)\//.test(v.file))).toBe(true);
  });

  test('internal imports: a deep @sage/x/... path and a relative path into another package', () => {
    const { code, report } = checkJson('internal-import');
    expect(code).toBe(1);
    const found = ofType(report, 'internal-import');
    expect(found).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ file: 'packages/llm-core/src/deep.ts', line: 2, rule: 'public-entry/no-deep-import/common' }),
        expect.objectContaining({ file: 'packages/gateway/src/relative.ts', line: 2, rule: 'public-entry/no-relative-import/common' }),
      ]),
    );
    expect(found).toHaveLength(2);
  });

  test('a subpath a package exports (@sage/common/http) is a public entry; a path it does not export is not', () => {
    const { code, report } = checkJson('exported-subpath');
    expect(code).toBe(1);
    expect(ofType(report, 'internal-import')).toEqual([
      expect.objectContaining({ file: 'packages/llm-core/src/edge.ts', line: 3, rule: 'public-entry/no-deep-import/common' }),
    ]);
  });

  test('missing layer markers: no layer tag, and an unknown layer', () => {
    const { code, report } = checkJson('missing-layer');
    expect(code).toBe(1);
    const found = ofType(report, 'missing-layer');
    expect(found.map((v) => v.file).sort()).toEqual(['packages/cli/project.json', 'packages/gateway/project.json']);
    expect(found.find((v) => v.file.includes('cli'))?.message).toContain('unknown layer "L9"');
    expect(found.find((v) => v.file.includes('gateway'))?.message).toContain('no layer tag');
  });

  test('circular dependency inside a package, reported once per cycle', () => {
    const { code, report } = checkJson('circular-dependency');
    expect(code).toBe(1);
    const found = ofType(report, 'circular-dependency');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'error', rule: 'no-circular', line: 1 });
    expect(found[0].related?.sort()).toEqual(['packages/llm-core/src/queue.ts', 'packages/llm-core/src/router.ts']);
    expect(found[0].message).toMatch(/queue\.ts -> packages\/llm-core\/src\/router\.ts -> packages\/llm-core\/src\/queue\.ts|router\.ts -> packages\/llm-core\/src\/queue\.ts -> packages\/llm-core\/src\/router\.ts/);
  });

  test('undeclared workspace dependency: cli imports @sage/llm-core without declaring it', () => {
    const { code, report } = checkJson('undeclared-dependency');
    expect(code).toBe(1);
    expect(report.violations).toEqual([
      expect.objectContaining({
        severity: 'error',
        type: 'undeclared-dependency',
        file: 'packages/cli/src/index.ts',
        line: 1,
        rule: 'manifest/undeclared',
        suggestion: expect.stringContaining('npm install @sage/llm-core@^0.1.0 -w packages/cli'),
      }),
    ]);
  });

  test('undeclared npm dependency: common imports yaml, which its package.json does not name (nor is it installed)', () => {
    const { code, report } = checkJson('undeclared-npm-dependency');
    expect(code).toBe(1);
    expect(report.violations).toEqual([
      expect.objectContaining({
        severity: 'error',
        type: 'undeclared-dependency',
        file: 'packages/common/src/text.ts',
        line: 1,
        rule: 'manifest/undeclared',
        message: "@sage/common imports 'yaml' in packages/common/src/text.ts, but packages/common/package.json does not declare it",
      }),
    ]);
  });

  test('unused dependencies: declared in dependencies or devDependencies and imported by no file', () => {
    const { code, report } = checkJson('unused-dependency');
    expect(code).toBe(1);
    expect(report.violations.map((v) => `${v.severity} ${v.type} ${v.file}:${v.line} ${v.rule}`)).toEqual([
      'error unused-dependency packages/llm-core/package.json:13 manifest/unused',
      'error unused-dependency packages/llm-core/package.json:16 manifest/unused',
    ]);
    expect(report.violations.map((v) => v.message)).toEqual([
      '@sage/llm-core declares "left-pad" in "dependencies", but no file of packages/llm-core imports it',
      '@sage/llm-core declares "chalk" in "devDependencies", but no file of packages/llm-core imports it',
    ]);
  });

  test('misplaced dependencies: a test-only one in dependencies, a devDependency imported by source', () => {
    const { code, report } = checkJson('misplaced-dependency');
    expect(code).toBe(1);
    expect(report.violations).toEqual([
      expect.objectContaining({ severity: 'error', type: 'misplaced-dependency', file: 'packages/cli/src/config.ts', line: 1, rule: 'manifest/dev-dependency-in-source' }),
      expect.objectContaining({
        severity: 'error',
        type: 'misplaced-dependency',
        file: 'packages/gateway/package.json',
        line: 11,
        rule: 'manifest/test-only-dependency',
        suggestion: expect.stringContaining('move "zod" from "dependencies" to "devDependencies"'),
      }),
    ]);
  });

  test('a dependency declared twice is a warning: exit 0, and exit 1 with --strict', () => {
    const lax = checkJson('declared-twice');
    expect(lax.code).toBe(0);
    expect(lax.report.summary).toMatchObject({ errors: 0, warnings: 1 });
    expect(lax.report.violations).toEqual([
      expect.objectContaining({ severity: 'warn', type: 'misplaced-dependency', file: 'packages/cli/package.json', line: 12, rule: 'manifest/declared-twice' }),
    ]);
    const strict = checkJson('declared-twice --strict');
    expect(strict.code).toBe(1);
    expect(strict.report).toMatchObject({ ok: false, strict: true });
  });

  test('a cycle under tools/ is reported like one in a package', () => {
    const { code, report } = checkJson('tools-cycle');
    expect(code).toBe(1);
    const found = ofType(report, 'circular-dependency');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'error', rule: 'no-circular' });
    expect(found[0].related?.sort()).toEqual(['tools/notes/src/format.js', 'tools/notes/src/index.js']);
    expect(report.violations).toHaveLength(1);
  });

  test('a tool reaching past a package\'s public entry is an internal import', () => {
    const { code, report } = checkJson('tools-deep-import');
    expect(code).toBe(1);
    expect(ofType(report, 'internal-import')).toEqual([
      expect.objectContaining({ severity: 'error', file: 'tools/notes/src/deep.js', line: 2, rule: 'public-entry/no-deep-import/common' }),
    ]);
  });

  test('a comment citing a feature id no Markdown file defines, or a spec section of a missing document', () => {
    const { code, report } = checkJson('undefined-feature-id');
    expect(code).toBe(1);
    // the clean fixture's docs/features.md defines the other id on that line, and packages/common cites it freely
    expect(report.violations.map((v) => `${v.type} ${v.file}:${v.line} ${v.rule}`)).toEqual([
      'undefined-feature-id packages/llm-core/src/control-plane.ts:3 docs/feature-id-defined',
      'undefined-feature-id packages/llm-core/src/control-plane.ts:3 docs/no-external-spec',
    ]);
    expect(report.violations[0].message).toMatch(/^cites F-9{3}, which no Markdown file of the repository defines$/);
  });

  test('locating a same-layer sibling with require.resolve (to run its bin) is no import; require() of it is', () => {
    const { code, report } = checkJson('locate-sibling-bin');
    expect(code).toBe(1);
    expect(report.violations.map((v) => `${v.type} ${v.file}:${v.line} ${v.rule}`)).toEqual([
      'same-layer-import packages/gateway/src/cli-code.ts:2 layer-L6/no-same-layer-import/gateway',
    ]);
  });

  test('a dependency installed for a workspace dependency that locates it at run time is used; elsewhere it is not', () => {
    // llm-core finds @sage/engines (same layer: it may neither import nor declare it) with require.resolve;
    // cli depends on llm-core and declares @sage/engines for it; tools/notes declares it for nothing
    const { code, report } = checkJson('provided-dependency');
    expect(code).toBe(1);
    expect(report.violations.map((v) => `${v.type} ${v.file}:${v.line} ${v.rule}`)).toEqual([
      'unused-dependency tools/notes/package.json:6 manifest/unused',
    ]);
  });

  test('without node_modules links the raw @sage/x specifier still matches the rules', () => {
    const { code, report } = checkJson('upward-import unlinked');
    expect(code).toBe(1);
    expect(ofType(report, 'upward-import').map((v) => v.file)).toEqual(['packages/common/src/banner.ts']);
  });
});
