#!/usr/bin/env node
// Top self-time entries of a V8 .cpuprofile (node --cpu-prof), by function and by package, so a profile taken by
// `node bench/overhead.js --profile DIR` can be read without a browser.
//
//   node bench/lib/profile-top.js FILE.cpuprofile [--top 40]
'use strict';
const { readFileSync } = require('node:fs');

const file = process.argv[2];
const top = process.argv.includes('--top') ? Number(process.argv[process.argv.indexOf('--top') + 1]) : 40;
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = prof.timeDeltas;
for (let i = 0; i < prof.samples.length; i++) {
  const id = prof.samples[i];
  self.set(id, (self.get(id) ?? 0) + (dt[i] ?? 0));
}
// Shares are of the busy time: idle samples are left out.
let idle = 0;
for (const [id, us] of self) if (byId.get(id).callFrame.functionName === '(idle)') idle += us;
for (const [id] of self) if (byId.get(id).callFrame.functionName === '(idle)') self.delete(id);
const total = [...self.values()].reduce((a, b) => a + b, 0);
const where = (cf) => {
  const url = cf.url.replace(/^file:\/\//, '');
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (/packages\/([^/]+)\//.test(url)) return `@sage/${/packages\/([^/]+)\//.exec(url)[1]}`;
  if (url.startsWith('node:')) return 'node';
  return url ? url : '(native/VM)';
};
const fn = new Map();
const pkg = new Map();
for (const [id, us] of self) {
  const cf = byId.get(id).callFrame;
  const key = `${cf.functionName || '(anonymous)'}  ${cf.url.replace(/^.*\/(packages|node_modules)\//, '$1/')}:${cf.lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + us);
  const p = where(cf);
  pkg.set(p, (pkg.get(p) ?? 0) + us);
}
// Inclusive time: a sample counts once for every distinct function on its stack.
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (cf) => `${cf.functionName || '(anonymous)'}  ${cf.url.replace(/^.*\/(packages|node_modules)\//, '$1/')}:${cf.lineNumber + 1}`;
const inclusive = new Map();
for (const [id, us] of self) {
  const seen = new Set();
  for (let n = id; n !== undefined; n = parent.get(n)) {
    const key = label(byId.get(n).callFrame);
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + us);
  }
}
const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
console.log(`busy ${(total / 1000).toFixed(0)} ms, idle ${(idle / 1000).toFixed(0)} ms; shares of the busy time\n\nby package:`);
for (const [k, us] of [...pkg].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${pct(us)}  ${k}`);
console.log('\nby function (self time):');
for (const [k, us] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${k}`);
if (process.argv.includes('--inclusive')) {
  const filter = process.argv.includes('--ours') ? (k) => /packages\//.test(k) : () => true;
  console.log('\nby function (inclusive time):');
  for (const [k, us] of [...inclusive].filter(([k]) => filter(k)).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${k}`);
}
