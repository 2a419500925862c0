// Files the dashboard serves from disk: its own browser script, and Chart.js from the installed package (the
// machine may have no internet, so no CDN). A missing file is reported, not thrown, so the control plane still
// starts; its route then answers 500.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export type StaticAsset = { ok: true; path: string; source: string } | { ok: false; error: string };

/**
 * The browser script lives in src/ (linted and type-checked as browser code, see tsconfig.dashboard.json) and is
 * served as it is. dist/ mirrors src/'s layout, so this one path holds from src/ and from dist/; the package's
 * `files` ships it.
 */
export const DASHBOARD_SCRIPT_FILE = path.resolve(__dirname, '..', '..', '..', 'src', 'server', 'dashboard', 'assets', 'dashboard.js');

function read(file: string): StaticAsset {
  return { ok: true, path: file, source: readFileSync(file, 'utf8') };
}

const firstLine = (err: unknown): string => (err as Error).message.split('\n')[0] ?? '';

/** Reads the dashboard's browser script once. */
export function loadDashboardScript(file: string = DASHBOARD_SCRIPT_FILE): StaticAsset {
  try {
    return read(file);
  } catch (err) {
    return { ok: false, error: `the dashboard script is missing (${firstLine(err)})` };
  }
}

/** Reads chart.js's UMD build once. chart.js does not export that file as a subpath: it sits next to the CommonJS entry. */
export function loadChartAsset(): StaticAsset {
  try {
    return read(path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.js'));
  } catch (err) {
    return { ok: false, error: `chart.js is not installed (${firstLine(err)})` };
  }
}
