// API report, in the spirit of api-extractor: the runtime names that each entry point of the built package
// exports (what `Object.keys(require('@sage/x'))` gives a consumer) must equal the list in api/exports.txt.
// Any addition or removal fails until that list is updated on purpose, in the same change as src/index.ts.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const REPORT = path.join(ROOT, 'api', 'exports.txt');
const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; exports: Record<string, unknown> };
/** Every entry point the package declares: "@sage/x", "@sage/x/testing", ... */
const ENTRIES = Object.keys(manifest.exports)
  .filter((k) => k !== './package.json')
  .map((k) => (k === '.' ? manifest.name : `${manifest.name}/${k.slice(2)}`));
const HEADER = [
  `# Runtime exports of ${manifest.name}, per entry point, sorted. tests/api-report.test.ts compares them with the built`,
  '# package. Change this list only on purpose, with src/index.ts: UPDATE_API_REPORT=1 npx jest -c jest.config.cjs api-report',
];

/** A plain node process resolves the entry as a consumer does (the "default" condition: dist/). */
function runtimeExports(entry: string): string[] {
  const script = `process.stdout.write(JSON.stringify(Object.keys(require(${JSON.stringify(entry)}))))`;
  try {
    return (JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' })) as string[]).sort();
  } catch (err) {
    throw new Error(`cannot load the built ${entry} (run npm run build first): ${(err as { stderr?: string }).stderr ?? String(err)}`);
  }
}

function readReport(): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of readFileSync(REPORT, 'utf8').split('\n').map((l) => l.trim())) {
    if (!line || line.startsWith('#')) continue;
    const entry = /^\[(.+)\]$/.exec(line)?.[1];
    if (entry) sections.set(entry, (current = []));
    else current?.push(line);
  }
  return sections;
}

function writeReport(actual: Map<string, string[]>): void {
  const body = [...actual].map(([entry, names]) => [`[${entry}]`, ...names].join('\n'));
  writeFileSync(REPORT, [...HEADER, '', body.join('\n\n'), ''].join('\n'));
}

describe(`${manifest.name} API report (api/exports.txt)`, () => {
  const actual = new Map(ENTRIES.map((e) => [e, runtimeExports(e)]));
  if (process.env.UPDATE_API_REPORT === '1') writeReport(actual);
  const documented = readReport();

  it.each(ENTRIES)('%s exports exactly the documented names', (entry) => {
    const names = actual.get(entry) ?? [];
    const listed = documented.get(entry) ?? [];
    const added = names.filter((n) => !listed.includes(n));
    const removed = listed.filter((n) => !names.includes(n));
    if (added.length || removed.length) {
      throw new Error(
        [
          `${entry} no longer matches ${path.relative(process.cwd(), REPORT)}:`,
          added.length ? `  exported but not listed: ${added.join(', ')}` : '',
          removed.length ? `  listed but no longer exported: ${removed.join(', ')}` : '',
          'A public name is a promise to every consumer. If this change is deliberate, rebuild (npm run build), run',
          `UPDATE_API_REPORT=1 npx jest -c jest.config.cjs api-report in ${path.relative(path.resolve(ROOT, '..', '..'), ROOT)}, and commit the`,
          'updated list with src/index.ts; if it is not, keep the name out of (or back in) src/index.ts.',
        ]
          .filter(Boolean)
          .join('\n'),
      );
    }
    expect(names).toEqual(listed);
  });

  it('lists no entry point the package does not declare', () => {
    expect([...documented.keys()].sort()).toEqual([...ENTRIES].sort());
  });
});
