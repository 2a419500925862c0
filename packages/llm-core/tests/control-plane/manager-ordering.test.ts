// F-203: decisions are applied to the request WITH THAT ID. A policy that reorders the queue (newest
// first) must still deliver every answer to its own caller; pairing decisions with requests by position
// would hand caller i the answer meant for another prompt.
import { ControlPlaneManager } from '../../src/control-plane/manager';
import type { PolicyResult, RequestMetadata, SchedulingContext, SchedulingPolicy } from '../../src/control-plane/types';
import type { LaunchedEngine } from '../../src/testing';
import { answerOf, factMessages, startEngine, stopAll } from './integration-helpers';

/** Schedules the newest request first, at most the free capacity; records the order it chose. */
class NewestFirstPolicy implements SchedulingPolicy {
  readonly name = 'newest_first';
  readonly scheduled: string[] = [];
  schedule(queue: readonly RequestMetadata[], ctx: SchedulingContext): PolicyResult {
    const free = new Map(ctx.instances.map((i) => [i.id, i.maxConcurrency - i.load.activeRequests]));
    const decisions = [];
    for (const r of [...queue].sort((a, b) => b.timestamps.arrival - a.timestamps.arrival || (b.id < a.id ? -1 : 1))) {
      const inst = ctx.instances.find((i) => (free.get(i.id) ?? 0) > 0 && i.supportedRequestTypes.includes(r.type));
      if (!inst) break;
      free.set(inst.id, (free.get(inst.id) ?? 0) - 1);
      this.scheduled.push(r.id);
      decisions.push({ requestId: r.id, instanceId: inst.id, estimatedLatencyMs: 0, reason: 'newest first', policy: this.name });
    }
    return { decisions, rejections: [] };
  }
}

describe('ControlPlaneManager applies each decision to its own request', () => {
  let llm: LaunchedEngine;
  beforeAll(async () => {
    llm = await startEngine({ kind: 'sim-llm', model: 'sim-a', timeScale: 0.05 });
  });
  afterAll(stopAll);

  it('delivers each answer to its own caller when the policy reorders the queue', async () => {
    const policy = new NewestFirstPolicy();
    const manager = new ControlPlaneManager({ policy, router: 'round_robin' });
    manager.registerInstance({ id: 'llm-1', baseUrl: llm.baseUrl, models: ['sim-a'], maxConcurrency: 2 });
    try {
      const words = ['AMBER', 'COBALT', 'DAHLIA', 'EMBER', 'FJORD', 'GARNET', 'HELIX', 'INDIGO'].map((w, i) => `${w}-${i}`);
      const ids = words.map((_, i) => `ord-${i}`);
      const results = await Promise.all(
        words.map((w, i) => manager.submit({ id: ids[i], model: 'sim-a', messages: factMessages(w), maxTokens: 24 })),
      );
      results.forEach((r, i) => {
        expect(r.requestId).toBe(ids[i]);
        expect(answerOf(r.body)).toContain(words[i]);
        for (const other of words) if (other !== words[i]) expect(answerOf(r.body)).not.toContain(other);
      });
      // The policy really did reorder: the first request it scheduled was not the first that arrived.
      expect(policy.scheduled).toHaveLength(words.length);
      expect(policy.scheduled).not.toEqual(ids);
      expect(policy.scheduled[0]).toBe(ids[ids.length - 1]);
    } finally {
      await manager.close();
    }
  });

  it('refuses an unknown policy name instead of falling back', () => {
    expect(() => new ControlPlaneManager({ policy: 'hybird' })).toThrow(/unknown scheduling policy "hybird"/);
    expect(() => new ControlPlaneManager({ router: 'nearest' })).toThrow(/unknown routing strategy/);
  });
});
