// The queue kept in the policy's order: for random queues under every policy that states its order, the
// O(log n) answers (how many are served before a request; the first k) are the ones the policy's own sort
// gives. And the ordered set underneath keeps ranks through inserts and deletes.
import { countAhead } from '../../src/control-plane/manager/backlog';
import { OrderedSet } from '../../src/control-plane/manager/ordered-set';
import { QueueIndex } from '../../src/control-plane/manager/queue-index';
import { createPolicy, hasDiscipline, serviceOrder, type DisciplinedPolicy } from '../../src/control-plane/policies';
import { InstanceType, RequestType, type RequestMetadata } from '../../src/control-plane/types';
import { inst, mulberry32, req } from './policies-fixtures';

describe('OrderedSet', () => {
  it('ranks, lists in order and deletes', () => {
    const s = new OrderedSet<number>((a, b) => a - b);
    const rand = mulberry32(3);
    const values = Array.from({ length: 500 }, (_, i) => i * 2);
    const shuffled = [...values].sort(() => rand() - 0.5);
    for (const v of shuffled) s.insert(v);
    expect(s.size).toBe(500);
    expect(s.first(5)).toEqual([0, 2, 4, 6, 8]);
    expect(s.countBefore(101)).toBe(51);
    for (const v of shuffled.slice(0, 250)) expect(s.delete(v)).toBe(true);
    expect(s.delete(1)).toBe(false);
    expect(s.all()).toEqual(values.filter((v) => !shuffled.slice(0, 250).includes(v)));
  });

  it('keeps ranks right through interleaved inserts and deletes, absent elements included', () => {
    const s = new OrderedSet<number>((a, b) => a - b);
    const rand = mulberry32(7);
    const model: number[] = [];
    for (let step = 0; step < 3000; step++) {
      const v = Math.floor(rand() * 400);
      if (rand() < 0.55 && !model.includes(v)) {
        s.insert(v);
        model.push(v);
        model.sort((a, b) => a - b);
      } else {
        const at = model.indexOf(v);
        expect(s.delete(v)).toBe(at >= 0);
        if (at >= 0) model.splice(at, 1);
      }
      const probe = Math.floor(rand() * 400);
      expect(s.countBefore(probe)).toBe(model.filter((m) => m < probe).length);
      expect(s.size).toBe(model.length);
    }
    expect(s.all()).toEqual(model);
    expect(s.first(7)).toEqual(model.slice(0, 7));
  });
});

describe('QueueIndex agrees with the policy order', () => {
  const NOW = 100_000;
  const serving = [inst('llm'), inst('shared', { type: InstanceType.LLM_EMBEDDING })];

  function randomQueue(seed: number, n: number): RequestMetadata[] {
    const rand = mulberry32(seed);
    return Array.from({ length: n }, (_, i) => {
      const embedding = rand() < 0.15;
      const over: Partial<RequestMetadata> & { arrival: number } = {
        arrival: NOW - Math.floor(rand() * 30_000), // some long enough to age several classes
        priority: Math.floor(rand() * 5) as RequestMetadata['priority'],
        model: embedding ? 'm' : rand() < 0.2 ? 'other' : 'm',
        type: embedding ? RequestType.EMBEDDING : RequestType.LLM_CHAT,
      };
      if (rand() < 0.5) over.sloDeadlineMs = 1000 + Math.floor(rand() * 40_000);
      if (rand() < 0.1) over.ttftDeadlineMs = 500 + Math.floor(rand() * 5_000);
      return req(`q${i}`, over);
    });
  }

  const policies: Array<[string, Record<string, unknown>]> = [
    ['fifo', {}],
    ['priority', {}],
    ['priority', { agingMs: 2_000 }],
    ['slo_aware', {}],
    ['cost_optimized', {}],
    ['adaptive', {}],
    ['hybrid', { embeddingPriority: 'high', llmFallbackPolicy: 'slo_aware' }],
    ['hybrid', { embeddingPriority: 'low', llmFallbackPolicy: 'priority' }],
  ];

  it.each(policies)('%s %j', (name, options) => {
    const policy = createPolicy(name, options) as DisciplinedPolicy;
    expect(hasDiscipline(policy)).toBe(true);
    for (const seed of [1, 2, 3]) {
      const queue = randomQueue(seed, 120);
      const index = new QueueIndex<{ meta: RequestMetadata }>(60_000);
      for (const meta of queue) index.add({ meta });
      const discipline = policy.discipline(index.shape(), NOW)!;
      expect(discipline).toBeDefined();
      const competes = (sample: RequestMetadata) => serving.some((i) => i.supportedRequestTypes.includes(sample.type) && i.models.includes(sample.model));
      // Every queued request, and a new one joining at the end.
      const probes = [...queue.filter((_, i) => i % 7 === 0), req('new', { arrival: NOW, priority: 1, sloDeadlineMs: 4000 })];
      for (const meta of probes) {
        expect(index.ahead(meta, discipline, competes, NOW)).toBe(countAhead(policy, queue, meta, serving, NOW));
      }
      // The head of each kind, in service order.
      const kindOf = (q: RequestMetadata) => `${q.type}/${q.model}`;
      const order = serviceOrder(policy, queue, NOW);
      const head = index.window(discipline, NOW, 10).map((p) => p.meta);
      for (const kind of new Set(queue.map(kindOf))) {
        const expected = order.filter((q) => kindOf(q) === kind).slice(0, 10).map((q) => q.id);
        expect(head.filter((q) => kindOf(q) === kind).map((q) => q.id)).toEqual(expected);
      }
      // Removing keeps it consistent.
      for (const meta of queue.slice(0, 60)) index.remove({ meta });
      const rest = queue.slice(60);
      expect(index.size).toBe(60);
      const d2 = policy.discipline(index.shape(), NOW)!;
      for (const meta of rest.slice(0, 10)) expect(index.ahead(meta, d2, competes, NOW)).toBe(countAhead(policy, rest, meta, serving, NOW));
    }
  });
});
