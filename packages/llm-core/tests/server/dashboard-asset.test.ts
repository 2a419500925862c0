// The dashboard's browser script is a file on disk: the compiled server finds it, and the published package
// carries it. (What the page does with it is dashboard.test.ts's job.)
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const PACKAGE = path.join(__dirname, '..', '..');
const SOURCE = path.join(PACKAGE, 'src', 'server', 'dashboard', 'assets', 'dashboard.js');
const COMPILED = path.join(PACKAGE, 'dist', 'server', 'dashboard', 'assets.js');

type AssetsModule = typeof import('../../src/server/dashboard/assets');

test('the compiled server reads the script from the same file the sources hold', () => {
  expect(existsSync(COMPILED)).toBe(true); // built first (npm run build)
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the built module, to check the path from dist/
  const built = require(COMPILED) as AssetsModule;
  expect(built.DASHBOARD_SCRIPT_FILE).toBe(SOURCE);
  const script = built.loadDashboardScript();
  expect(script).toEqual({ ok: true, path: SOURCE, source: readFileSync(SOURCE, 'utf8') });
});

test('a missing script is reported, not thrown, so the control plane still starts', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the built module, as the server runs it
  const built = require(COMPILED) as AssetsModule;
  const script = built.loadDashboardScript(path.join(PACKAGE, 'no-such-dir', 'dashboard.js'));
  expect(script).toEqual({ ok: false, error: expect.stringMatching(/^the dashboard script is missing \(ENOENT/) });
});

test('the package tarball ships the script next to dist/', async () => {
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: PACKAGE, maxBuffer: 16 * 1024 * 1024 });
  const [pack] = JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>;
  const files = pack!.files.map((f) => f.path);
  expect(files).toContain('src/server/dashboard/assets/dashboard.js');
  expect(files).toContain('dist/server/dashboard/assets.js');
}, 60_000);
