// The acceptance scenarios of issue 2, on a temp COPY of this repository's real packages
// (package.json, project.json, tsconfig*, src/, tests/), never on the working tree itself.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, checkJson, linkWorkspacePackages, ofType, removeWorkspaces, tempDir } from './helpers';

afterAll(removeWorkspaces);

const COPIED = /^(package\.json|project\.json|tsconfig.*\.json|src|tests)$/;

function copyRealRepo(label: string): string {
  const root = tempDir(label);
  for (const f of ['nx.json', 'package.json']) fs.copyFileSync(path.join(REPO_ROOT, f), path.join(root, f));
  fs.mkdirSync(path.join(root, 'tools', 'sage-dev'), { recursive: true });
  fs.copyFileSync(path.join(REPO_ROOT, 'tools/sage-dev/layers.json'), path.join(root, 'tools/sage-dev/layers.json'));
  for (const folder of fs.readdirSync(path.join(REPO_ROOT, 'packages'))) {
    const from = path.join(REPO_ROOT, 'packages', folder);
    if (!fs.existsSync(path.join(from, 'package.json'))) continue;
    for (const entry of fs.readdirSync(from).filter((e) => COPIED.test(e))) {
      fs.cpSync(path.join(from, entry), path.join(root, 'packages', folder, entry), { recursive: true });
    }
  }
  linkWorkspacePackages(root);
  return root;
}

describe('acceptance scenarios on a copy of the real packages', () => {
  test("adding import '@sage/gateway' to a file in packages/common/src fails and names the file", () => {
    const root = copyRealRepo('common-up');
    const file = 'packages/common/src/index.ts';
    const abs = path.join(root, file);
    fs.writeFileSync(abs, `import '@sage/gateway';\n${fs.readFileSync(abs, 'utf8')}`);
    const { code, report } = checkJson(root);
    expect(code).toBe(1);
    expect(ofType(report, 'upward-import')).toContainEqual(
      expect.objectContaining({ file, line: 1, rule: 'layer-L1/no-upward-import/common' }),
    );
  });

  test('@sage/cli importing @sage/gateway fails as a same-layer import', () => {
    const root = copyRealRepo('cli-gateway');
    const file = 'packages/cli/src/arch-probe.ts';
    fs.writeFileSync(path.join(root, file), "// probe\nimport * as gateway from '@sage/gateway';\nexport const probe = gateway;\n");
    const { code, report } = checkJson(root);
    expect(code).toBe(1);
    expect(ofType(report, 'same-layer-import')).toContainEqual(
      expect.objectContaining({ file, line: 2, rule: 'layer-L6/no-same-layer-import/cli' }),
    );
  });

  test("@sage/llm-core importing '@sage/common/src/...' fails as an internal import", () => {
    const root = copyRealRepo('core-deep');
    const file = 'packages/llm-core/src/arch-probe.ts';
    fs.writeFileSync(path.join(root, file), "import * as tokens from '@sage/common/src/tokens/tokenizer';\nexport const probe = tokens;\n");
    const { code, report } = checkJson(root);
    expect(code).toBe(1);
    expect(ofType(report, 'internal-import')).toContainEqual(
      expect.objectContaining({ file, line: 1, rule: 'public-entry/no-deep-import/common' }),
    );
  });

  test('a package whose layer tag is removed fails with a missing layer marker', () => {
    const root = copyRealRepo('no-layer');
    const file = 'packages/llm-core/project.json';
    const abs = path.join(root, file);
    const project = JSON.parse(fs.readFileSync(abs, 'utf8'));
    project.tags = (project.tags as string[]).filter((t) => !t.startsWith('layer:'));
    fs.writeFileSync(abs, JSON.stringify(project, null, 2));
    const { code, report } = checkJson(root);
    expect(code).toBe(1);
    expect(ofType(report, 'missing-layer')).toEqual([expect.objectContaining({ file, severity: 'error' })]);
  });
});
