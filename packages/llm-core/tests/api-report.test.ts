// API report: the runtime names each entry point of the built package exports must equal api/exports.txt.
// The comparison lives in @sage/dev-tools; UPDATE_API_REPORT=1 rewrites the list from the build (see the README).
import path from 'node:path';
import { checkApiReport } from '@sage/dev-tools';

it('exports exactly the names listed in api/exports.txt', () => {
  const report = checkApiReport(path.resolve(__dirname, '..'), { update: process.env.UPDATE_API_REPORT === '1' });
  expect(report.entries.length).toBeGreaterThan(0);
  expect(report.problems).toEqual([]);
});
