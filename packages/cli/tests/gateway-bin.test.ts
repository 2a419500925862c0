// `sage gateway` finds the gateway's own executable without importing the package, and says so plainly when
// there is none.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findGatewayBin } from '../src';
import { sage } from './helpers';

describe('sage gateway', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sage-gw-test-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('finds an executable sage-gateway on PATH, ignores a non-executable one', () => {
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    const file = path.join(bin, 'sage-gateway');
    fs.writeFileSync(file, '#!/bin/sh\n', { mode: 0o644 });
    expect(findGatewayBin({ PATH: bin }, dir)).toBeUndefined();
    fs.chmodSync(file, 0o755);
    expect(findGatewayBin({ PATH: bin }, dir)).toBe(file);
  });

  test('finds node_modules/.bin/sage-gateway above the CLI', () => {
    const nm = path.join(dir, 'ws', 'node_modules', '.bin');
    fs.mkdirSync(nm, { recursive: true });
    fs.writeFileSync(path.join(nm, 'sage-gateway'), '#!/bin/sh\n', { mode: 0o755 });
    expect(findGatewayBin({ PATH: '' }, path.join(dir, 'ws', 'packages', 'cli', 'dist'))).toBe(path.join(nm, 'sage-gateway'));
  });

  test('status with no gateway running exits 3 (--json for scripts)', async () => {
    const r = await sage(['gateway', 'status', '--json'], { home: dir });
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({ running: false });
    const stop = await sage(['gateway', 'stop'], { home: dir });
    expect(stop.code).toBe(3);
    expect(stop.stderr).toMatch(/^sage: the gateway is not running$/m);
  });
});
