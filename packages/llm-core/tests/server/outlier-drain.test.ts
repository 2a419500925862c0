// An engine that still answers but much more slowly than its peer is drained of new work, and /health says why.
import { startEngine, stopAll } from '../control-plane/integration-helpers';
import { startHarness, getJson, type Harness } from './harness';

let h: Harness;
afterAll(async () => {
  await h?.stop();
  await stopAll();
});

it('drains the slow instance (latency outlier) and sends new work to its peer', async () => {
  h = await startHarness({ preset: false, policy: 'fifo', router: 'round_robin', runtime: { scheduler: { latencyOutliers: { minSamples: 6, factor: 3, drainMs: 60_000, minSpanMs: 0 } } } });
  const [fast, slow] = await Promise.all([startEngine({ kind: 'sim-llm', model: 'sim-o', timeScale: 0.05 }), startEngine({ kind: 'sim-llm', model: 'sim-o', timeScale: 2 })]);
  await h.cp.runtime.registerBackend({ baseUrl: fast.baseUrl, kind: 'llm', models: ['sim-o'], id: 'fast' });
  await h.cp.runtime.registerBackend({ baseUrl: slow.baseUrl, kind: 'llm', models: ['sim-o'], id: 'slow' });
  const ask = async () => {
    const res = await fetch(`${h.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'sim-o', messages: [{ role: 'user', content: 'hi' }], max_tokens: 6 }) });
    expect(res.status).toBe(200);
    await res.json();
    return res.headers.get('x-sage-instance');
  };
  for (let i = 0; i < 14; i++) await ask();
  const health = await getJson(`${h.cp.url}/health`);
  const byId = Object.fromEntries(health.instances.map((i: { id: string }) => [i.id, i]));
  expect(byId.slow.drained).toMatch(/^latency outlier: median .* ms per token over its last \d+ requests, .*× its peers'/);
  expect(byId.fast.drained).toBeUndefined();
  expect(byId.slow.health).toBe('healthy'); // drained, not dead
  const next = await Promise.all(Array.from({ length: 4 }, ask));
  expect(next).toEqual(['fast', 'fast', 'fast', 'fast']);
  // Drained means "not while a peer can do the work": with the peer gone it serves again at once (its 60 s drain
  // would outlast the test's timeout).
  h.cp.runtime.manager.unregisterInstance('fast');
  expect(await ask()).toBe('slow');
});
