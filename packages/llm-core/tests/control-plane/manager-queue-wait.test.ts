// A request never waits in the queue without bound (F-203): past maxQueueWaitMs it is refused with 503
// queue_timeout, e.g. when its only instance stays busy or down.
import { RequestRejectedError } from '../../src/control-plane/manager';
import { echoCompletion, scriptedUpstream } from './executor-upstream-helpers';
import { ask, useManagers } from './manager-test-kit';

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
