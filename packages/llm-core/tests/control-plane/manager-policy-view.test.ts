// What a scheduling policy is shown: sage's own policies read the queued requests and the live instances; a policy
// handed in by the caller gets copies, so that what it does to them changes neither the queue nor the registry, and
// it never sees an instance's API key.
import { createPolicy } from '../../src/control-plane/policies';
import type { PolicyResult, RequestMetadata, SchedulingContext, SchedulingPolicy } from '../../src/control-plane/types';
import { echoCompletion, scriptedUpstream } from './executor-upstream-helpers';
import { ask, text, useManagers } from './manager-test-kit';

/** fifo's decisions, after scribbling over everything it was shown. */
class ScribblingPolicy implements SchedulingPolicy {
  readonly name = 'scribbling';
  private readonly inner = createPolicy('fifo');
  readonly keysSeen: unknown[] = [];
  schedule(queue: readonly RequestMetadata[], ctx: SchedulingContext): PolicyResult {
    const result = this.inner.schedule(queue, ctx);
    for (const r of queue) {
      (r as { model: string }).model = 'scribbled';
      r.timestamps.arrival = 0;
    }
    for (const i of ctx.instances) {
      this.keysSeen.push(i.apiKey);
      i.load.activeRequests = 1000;
      (i as { maxConcurrency: number }).maxConcurrency = 0;
    }
    return result;
  }
}

describe('what a policy is shown', () => {
  const manager = useManagers();

  it('a policy handed in changes nothing it is shown and sees no API key', async () => {
    const up = await scriptedUpstream((_req, res, body) => echoCompletion(res, body, `u:${String(body.model)}`));
    const policy = new ScribblingPolicy();
    const m = manager({ policy });
    m.registerInstance({ id: 'u', baseUrl: up.baseUrl, models: ['m'], maxConcurrency: 4, apiKey: 'secret-key' });
    const started = Date.now();
    const results = await Promise.all(['a', 'b', 'c'].map((c) => m.submit(ask(c))));
    // The engine was asked for the request's own model, and the request's times are its own.
    expect(results.map((r) => text(r.body))).toEqual(['u:m: a', 'u:m: b', 'u:m: c']);
    for (const r of results) expect(r.timings.e2eMs).toBeLessThan(Date.now() - started + 1000);
    expect(policy.keysSeen.length).toBeGreaterThan(0);
    expect(policy.keysSeen.every((k) => k === undefined)).toBe(true);
    const [inst] = m.getInstances();
    expect(inst!.maxConcurrency).toBe(4);
    expect(inst!.load.activeRequests).toBe(0);
  });

  it("sage's own policy places a burst on one instance, each placement seeing the ones before it", async () => {
    const up = await scriptedUpstream((_req, res, body) => echoCompletion(res, body, 'u'));
    const m = manager({ policy: 'adaptive' });
    m.registerInstance({ id: 'u', baseUrl: up.baseUrl, models: ['m'], maxConcurrency: 3 });
    // Five at once: three placed by the first run (no more than the slots), two once slots come free.
    const results = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((c) => m.submit(ask(c))));
    expect(results.map((r) => text(r.body))).toEqual(['u: a', 'u: b', 'u: c', 'u: d', 'u: e']);
    expect(up.hits).toBe(5);
    const [inst] = m.getInstances();
    expect(inst!.load.activeRequests).toBe(0);
  });
});
