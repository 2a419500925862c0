// The main entry stays a small, deliberate API without test helpers; those live behind @sage/llm-core/testing,
// which works from the built package as a consumer (or a benchmark) uses it.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const node = (script: string) => execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', stdio: 'pipe', timeout: 20_000 });
const keys = (entry: string) => JSON.parse(node(`process.stdout.write(JSON.stringify(Object.keys(require('${entry}'))))`)) as string[];

describe('@sage/llm-core entry points', () => {
  it('the main entry has at most 60 runtime names and no test helper', () => {
    const main = keys('@sage/llm-core');
    const testing = keys('@sage/llm-core/testing');
    expect(main.length).toBeLessThanOrEqual(60);
    expect(testing).toEqual(expect.arrayContaining(['launchSimEngine', 'launchedPids']));
    expect(main.filter((n) => testing.includes(n) || /^launch/i.test(n))).toEqual([]);
  });

  it('@sage/llm-core/testing launches a built-in engine from the built package and stops it', () => {
    const out = node(`
      const { launchSimEngine, launchedPids } = require('@sage/llm-core/testing');
      launchSimEngine({ kind: 'sim-embedding', model: 'e' }).then(async (e) => {
        const r = await fetch(e.baseUrl + '/models');
        const body = await r.json();
        await e.stop();
        process.stdout.write(JSON.stringify({ status: r.status, model: body.data[0].id, exited: e.exited, live: launchedPids().length }));
      }, (err) => { console.error(err); process.exit(1); });
    `);
    expect(JSON.parse(out)).toEqual({ status: 200, model: 'e', exited: true, live: 0 });
  });
});
