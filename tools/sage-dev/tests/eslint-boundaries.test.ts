// The ESLint side of the layer law (F-602): eslint-plugin-boundaries with elements and policies generated
// by eslint-boundaries.js from the fixture's own tags flags the same wrong imports the checker reports.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { boundariesConfig } from '../src/eslint-boundaries';
import { REPO_ROOT, makeWorkspace, removeWorkspaces } from './helpers';

afterAll(removeWorkspaces);

const ESLINT_BIN = path.join(REPO_ROOT, 'node_modules', 'eslint', 'bin', 'eslint.js');

/** A flat config in the temp workspace wiring the plugin exactly as the root eslint.config.mjs does. */
function writeEslintConfig(root: string): void {
  const req = (id: string) => JSON.stringify(require.resolve(id));
  fs.writeFileSync(
    path.join(root, 'eslint.config.cjs'),
    `const boundaries = require(${req('eslint-plugin-boundaries')});
const tseslint = require(${req('typescript-eslint')});
const { boundariesConfig } = require(${req('../src/eslint-boundaries')});
const b = boundariesConfig(__dirname);
module.exports = [{
  files: ['**/*.ts'],
  languageOptions: { parser: tseslint.parser },
  plugins: { boundaries },
  settings: b.settings,
  rules: { 'boundaries/dependencies': ['error', b.dependenciesOptions] },
}];
`,
  );
}

interface Finding {
  file: string;
  line: number;
  rule: string | null;
  message: string;
}

/** Runs the real eslint CLI (a child process: eslint loads its config through dynamic import). */
function lintWorkspace(root: string): Finding[] {
  writeEslintConfig(root);
  const r = spawnSync(process.execPath, [ESLINT_BIN, '--format', 'json', 'packages'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  const results: Array<{ filePath: string; messages: Array<{ line: number; ruleId: string | null; message: string }> }> = JSON.parse(r.stdout);
  return results.flatMap((f) =>
    f.messages.map((m) => ({ file: path.relative(root, f.filePath).split(path.sep).join('/'), line: m.line, rule: m.ruleId, message: m.message })),
  );
}

describe('eslint-plugin-boundaries policies generated from the layer tags', () => {
  test('elements: one per layered package, typed "<layer>:<folder>"', () => {
    const { settings } = boundariesConfig(makeWorkspace());
    expect(settings['boundaries/elements'].map((e: { type: string }) => e.type).sort()).toEqual(['L1:common', 'L2:llm-core', 'L6:cli', 'L6:gateway']);
  });

  test('the clean fixture lints without boundary errors', () => {
    const root = makeWorkspace();
    expect(lintWorkspace(root)).toEqual([]);
  });

  test('upward, same-layer, deep and relative imports are flagged on their line', () => {
    const root = makeWorkspace('upward-import');
    for (const overlay of ['same-layer-import', 'internal-import']) {
      // lay the other overlays on the same workspace: one lint run sees all four kinds
      fs.cpSync(path.join(__dirname, 'fixtures', overlay), root, { recursive: true, force: true });
    }
    const found = lintWorkspace(root);
    expect(found.every((m) => m.rule === 'boundaries/dependencies')).toBe(true);
    expect(found.map((m) => `${m.file}:${m.line}`).sort()).toEqual([
      'packages/cli/src/serve.ts:2',
      'packages/common/src/banner.ts:2',
      'packages/gateway/src/relative.ts:2',
      'packages/llm-core/src/deep.ts:2',
    ]);
    expect(found.find((m) => m.file.endsWith('banner.ts'))?.message).toContain('@sage/common is layer L1: it may import no workspace package');
    expect(found.find((m) => m.file.endsWith('serve.ts'))?.message).toContain('@sage/cli is layer L6');
    expect(found.find((m) => m.file.endsWith('deep.ts'))?.message).toContain('public entry');
  });

  test('a subpath the package exports is allowed; a path it does not export is flagged', () => {
    const found = lintWorkspace(makeWorkspace('exported-subpath'));
    expect(found.map((m) => `${m.file}:${m.line}`)).toEqual(['packages/llm-core/src/edge.ts:3']);
  });
});
