// F-208 / reliability: with one of two engines killed mid-run, the requests that had not started (and
// those whose call failed before any byte reached the caller) complete on the other engine.
import { ControlPlaneManager } from '../../src/control-plane/manager';
import type { RequestRecord } from '../../src/control-plane/metrics';
import type { LaunchedEngine } from '../../src/testing';
import { answerOf, factMessages, startEngine, stopAll } from './integration-helpers';

describe('failover when an engine dies mid-run', () => {
  let a: LaunchedEngine;
  let b: LaunchedEngine;
  beforeAll(async () => {
    [a, b] = await Promise.all([
      startEngine({ kind: 'sim-llm', model: 'sim-f', timeScale: 0.5 }),
      startEngine({ kind: 'sim-llm', model: 'sim-f', timeScale: 0.5 }),
    ]);
  });
  afterAll(stopAll);

  it('completes every request on the surviving engine', async () => {
    const manager = new ControlPlaneManager({ policy: 'fifo', router: 'round_robin', healthProbeIntervalMs: 200 });
    manager.registerInstance({ id: 'A', baseUrl: a.baseUrl, models: ['sim-f'], maxConcurrency: 2 });
    manager.registerInstance({ id: 'B', baseUrl: b.baseUrl, models: ['sim-f'], maxConcurrency: 2 });
    const records: RequestRecord[] = [];
    manager.on('finished', (r) => records.push(r));
    try {
      const words = Array.from({ length: 12 }, (_, i) => `WORD${i}X`);
      const calls = words.map((w, i) => manager.submit({ id: `f-${i}`, model: 'sim-f', messages: factMessages(w), maxTokens: 16 }));
      // Kill A as soon as the first request has finished: most of the queue has not started yet.
      await Promise.race(calls);
      const notStarted = manager.queuedRequestIds();
      process.kill(a.pid, 'SIGKILL');
      const results = await Promise.allSettled(calls);
      for (const [i, r] of results.entries()) {
        expect(r.status).toBe('fulfilled');
        if (r.status === 'fulfilled') expect(answerOf(r.value.body)).toContain(words[i]);
      }
      expect(notStarted.length).toBeGreaterThan(0);
      // Every request that had not started when A died ran on B. (A request already running on A either
      // got its answer before the kill reached the socket, or failed before its first byte and was retried on B.)
      for (const id of notStarted) expect(records.find((r) => r.requestId === id)).toMatchObject({ outcome: 'completed', instanceId: 'B' });
      expect(records.filter((r) => r.outcome === 'completed')).toHaveLength(words.length);
      expect(manager.getInstances().find((i) => i.id === 'A')?.health).toBe('unhealthy');
    } finally {
      await manager.close();
    }
  });
});
