#!/usr/bin/env node
// Prints the workspace's test totals as one closing line ("tests: N passed, N failed, N skipped") from the
// files tools/jest-results-reporter.cjs wrote, and exits 1 if a project failed or none ran.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const dir = path.join(__dirname, '..', 'dist', 'test-results');
const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
const rows = files.map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
const total = rows.reduce((t, r) => ({ passed: t.passed + r.passed, failed: t.failed + r.failed, skipped: t.skipped + r.skipped }), { passed: 0, failed: 0, skipped: 0 });
for (const r of rows) console.log(`  ${r.project.padEnd(20)} ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped (${r.suites} suites)`);
console.log(`tests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(rows.length === 0 || total.passed === 0 || total.failed > 0 || rows.some((r) => r.failedSuites > 0) ? 1 : 0);
