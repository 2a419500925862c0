// A request never waits in the queue without bound (F-203): past maxQueueWaitMs it is refused with 503
// queue_timeout, e.g. when its only instance stays busy or down.
import { RequestRejectedError } from '../../src/control-plane/manager';
import { echoCompletion, scriptedUpstream } from './executor-upstream-helpers';
import { ask, until, useManagers } from './manager-test-kit';

const manager = useManagers();

it('refuses a request that waited past maxQueueWaitMs, while the running one completes', async () => {
  const slow = await scriptedUpstream((_req, res, body) => setTimeout(() => echoCompletion(res, body, 'slow'), 1200));
  const m = manager({ maxQueueWaitMs: 300, instances: [{ id: 'only', baseUrl: slow.baseUrl, models: ['m'], maxConcurrency: 1 }] });
  const first = m.submit(ask('first'));
  const startedWaiting = Date.now();
  const second = m.submit(ask('second'));
  const err = await second.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RequestRejectedError);
  expect(err).toMatchObject({ status: 503, code: 'queue_timeout' });
  expect(Date.now() - startedWaiting).toBeLessThan(1100); // refused before the slot freed
  expect(m.queueLength).toBe(0);
  expect((await first).instanceId).toBe('only');
  expect(slow.hits).toBe(1);
});

it('does not expire requests that are dispatched in time', async () => {
  const fast = await scriptedUpstream((_req, res, body) => setTimeout(() => echoCompletion(res, body, 'fast'), 50));
  const m = manager({ maxQueueWaitMs: 2000, instances: [{ id: 'only', baseUrl: fast.baseUrl, models: ['m'], maxConcurrency: 1 }] });
  const all = await Promise.all(Array.from({ length: 6 }, (_, i) => m.submit(ask(`q${i}`))));
  expect(all).toHaveLength(6);
});

it('refuses queued requests each at its own bound, in the order they came, and spares those dispatched meanwhile', async () => {
  const held: Array<() => void> = [];
  const up = await scriptedUpstream((_req, res, body) => held.push(() => echoCompletion(res, body, 'u')));
  const m = manager({ maxQueueWaitMs: 400, instances: [{ id: 'only', baseUrl: up.baseUrl, models: ['m'], maxConcurrency: 1 }] });
  const first = m.submit(ask('first'));
  await new Promise((r) => setTimeout(r, 50));
  const settled: Array<{ name: string; at: number; code?: string }> = [];
  const t0 = Date.now();
  const track = (name: string, p: Promise<unknown>) =>
    p.then(
      () => settled.push({ name, at: Date.now() - t0 }),
      (e: { code?: string }) => settled.push({ name, at: Date.now() - t0, code: e.code }),
    );
  const a = track('a', m.submit(ask('a')));
  await new Promise((r) => setTimeout(r, 150));
  const b = track('b', m.submit(ask('b')));
  await new Promise((r) => setTimeout(r, 100));
  // The slot frees: `a` is dispatched before its bound (and holds the slot past it); `b` waits on.
  held.shift()?.();
  await first;
  await b;
  await until(() => held.length === 1);
  held.shift()?.();
  await a;
  expect(settled.map((s) => [s.name, s.code])).toEqual([
    ['b', 'queue_timeout'],
    ['a', undefined],
  ]);
  // b was refused at its own bound (queued ~250 ms after t0 minus 150 ms: ~550 ms), not at a's.
  expect(settled[1]!.at).toBeGreaterThanOrEqual(500);
});
