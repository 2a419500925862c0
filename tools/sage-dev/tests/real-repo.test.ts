// The acceptance scenarios of issue 2, on a temp COPY of this repository's real packages
// (package.json, project.json, tsconfig*, src/, bin/), never on the working tree itself.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  REPO_ROOT,
  checkJsonAsync,
  inBatches,
  linkWorkspacePackages,
  ofType,
  removeWorkspaces,
  tempDir,
  type Report,
  type RunResult,
} from './helpers';

afterAll(removeWorkspaces);

// no tests/: the scenarios are about src/, and fewer files keep the four runs cheap
const COPIED = /^(package\.json|project\.json|tsconfig.*\.json|src|bin)$/;

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

interface Scenario {
  label: string;
  mutate: (root: string) => void;
}

const scenarios: Scenario[] = [
  {
    label: 'common-up',
    mutate: (root) => {
      const abs = path.join(root, 'packages/common/src/index.ts');
      fs.writeFileSync(abs, `import '@sage/gateway';\n${fs.readFileSync(abs, 'utf8')}`);
    },
  },
  {
    label: 'cli-gateway',
    mutate: (root) =>
      fs.writeFileSync(
        path.join(root, 'packages/cli/src/arch-probe.ts'),
        "// probe\nimport * as gateway from '@sage/gateway';\nexport const probe = gateway;\n",
      ),
  },
  {
    label: 'core-deep',
    mutate: (root) =>
      fs.writeFileSync(
        path.join(root, 'packages/llm-core/src/arch-probe.ts'),
        "import * as tokens from '@sage/common/src/tokens/tokenizer';\nexport const probe = tokens;\n",
      ),
  },
  {
    label: 'no-layer',
    mutate: (root) => {
      const abs = path.join(root, 'packages/llm-core/project.json');
      const project = JSON.parse(fs.readFileSync(abs, 'utf8'));
      project.tags = (project.tags as string[]).filter((t) => !t.startsWith('layer:'));
      fs.writeFileSync(abs, JSON.stringify(project, null, 2));
    },
  },
];

const runs = new Map<string, RunResult & { report: Report }>();

beforeAll(async () => {
  const done = await inBatches(
    scenarios.map((s) => async () => {
      const root = copyRealRepo(s.label);
      s.mutate(root);
      return [s.label, await checkJsonAsync(root)] as const;
    }),
  );
  for (const [label, run] of done) runs.set(label, run);
  // generous: several checker processes on a small shared machine
}, 180_000);

const run = (label: string) => {
  const r = runs.get(label);
  if (!r) throw new Error(`no run ${label}`);
  return r;
};

describe('acceptance scenarios on a copy of the real packages', () => {
  test("adding import '@sage/gateway' to a file in packages/common/src fails and names the file", () => {
    const { code, report } = run('common-up');
    expect(code).toBe(1);
    expect(ofType(report, 'upward-import')).toContainEqual(
      expect.objectContaining({ file: 'packages/common/src/index.ts', line: 1, rule: 'layer-L1/no-upward-import/common' }),
    );
  });

  test('@sage/cli importing @sage/gateway fails as a same-layer import', () => {
    const { code, report } = run('cli-gateway');
    expect(code).toBe(1);
    expect(ofType(report, 'same-layer-import')).toContainEqual(
      expect.objectContaining({ file: 'packages/cli/src/arch-probe.ts', line: 2, rule: 'layer-L6/no-same-layer-import/cli' }),
    );
  });

  test("@sage/llm-core importing '@sage/common/src/...' fails as an internal import", () => {
    const { code, report } = run('core-deep');
    expect(code).toBe(1);
    expect(ofType(report, 'internal-import')).toContainEqual(
      expect.objectContaining({ file: 'packages/llm-core/src/arch-probe.ts', line: 1, rule: 'public-entry/no-deep-import/common' }),
    );
  });

  test('a package whose layer tag is removed fails with a missing layer marker', () => {
    const { code, report } = run('no-layer');
    expect(code).toBe(1);
    expect(ofType(report, 'missing-layer')).toEqual([
      expect.objectContaining({ file: 'packages/llm-core/project.json', severity: 'error' }),
    ]);
  });
});
