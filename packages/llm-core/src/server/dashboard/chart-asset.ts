// Chart.js for the dashboard, served from the installed package (the machine may have no internet, so no CDN).
// chart.js does not export its UMD file as a subpath, so the path is found next to its CommonJS entry.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export type ChartAsset = { ok: true; path: string; source: string } | { ok: false; error: string };

/** Reads chart.js's UMD build once; a missing package is reported, not thrown, so the control plane still starts. */
export function loadChartAsset(): ChartAsset {
  try {
    const entry = require.resolve('chart.js');
    const file = path.join(path.dirname(entry), 'chart.umd.js');
    return { ok: true, path: file, source: readFileSync(file, 'utf8') };
  } catch (err) {
    return { ok: false, error: `chart.js is not installed (${(err as Error).message.split('\n')[0]})` };
  }
}
