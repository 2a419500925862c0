import { AdaptivePolicy, PriorityPolicy } from '../../src/control-plane/policies';
import {
  InstanceType,
  POLICY_NAMES,
  RequestPriority,
  RequestType,
  createPolicy,
  createRouter,
  type ExecutionInstance,
  type RequestMetadata,
  type SchedulingPolicy,
} from '../../src';
import { ctx, inst, mulberry32, req } from './policies-fixtures';

const { CRITICAL, HIGH, NORMAL, LOW, BACKGROUND } = RequestPriority;
const ids = (xs: { requestId: string }[]) => xs.map((x) => x.requestId);
const target = (result: { decisions: { requestId: string; instanceId: string }[] }, id: string) =>
  result.decisions.find((d) => d.requestId === id)?.instanceId;

describe('createPolicy', () => {
  it('creates every named policy under its own name (hybrid is hybrid, not adaptive)', () => {
    for (const name of POLICY_NAMES) expect(createPolicy(name).name).toBe(name);
  });
  it('throws on an unknown name, listing the valid ones', () => {
    expect(() => createPolicy('nope')).toThrow(/unknown scheduling policy "nope".*fifo.*hybrid/);
  });
  it('rejects malformed options instead of ignoring them', () => {
    expect(() => createPolicy('priority', { agingMs: -1 })).toThrow(/agingMs/);
    // @ts-expect-error hybrid cannot fall back to itself
    expect(() => createPolicy('hybrid', { llmFallbackPolicy: 'hybrid' })).toThrow(/llmFallbackPolicy/);
    // @ts-expect-error not an embedding priority
    expect(() => createPolicy('hybrid', { embeddingPriority: 'urgent' })).toThrow(/embeddingPriority/);
  });
});

describe('fifo', () => {
  it('serves in arrival order up to the free capacity, whatever the queue order', () => {
    const queue = [req('c', { arrival: 30 }), req('a', { arrival: 10 }), req('d', { arrival: 40 }), req('b', { arrival: 20 })];
    const one = inst('g', { maxConcurrency: 4, load: { activeRequests: 2 } });
    const result = createPolicy('fifo').schedule(queue, ctx([one], { now: 50 }));
    expect(ids(result.decisions)).toEqual(['a', 'b']);
    expect(result.decisions.every((d) => d.policy === 'fifo' && d.instanceId === 'g')).toBe(true);
  });
  it('spreads over instances through the router (least loaded first)', () => {
    const pool = [inst('x', { load: { activeRequests: 3 } }), inst('y', { load: { activeRequests: 1 } })];
    const result = createPolicy('fifo').schedule([req('1'), req('2'), req('3')], ctx(pool));
    // y (0.25) → y (0.5) → then x and y tie at 0.75: both remain plausible, capacity is respected either way
    expect(result.decisions.slice(0, 2).map((d) => d.instanceId)).toEqual(['y', 'y']);
    expect(result.decisions).toHaveLength(3);
  });
});

describe('priority', () => {
  const policy = new PriorityPolicy({ agingMs: 1_000 });

  it('orders CRITICAL > HIGH > NORMAL > LOW > BACKGROUND, FIFO within a class', () => {
    const queue = [
      req('bg', { priority: BACKGROUND, arrival: 0 }),
      req('low', { priority: LOW, arrival: 1 }),
      req('n2', { priority: NORMAL, arrival: 5 }),
      req('crit', { priority: CRITICAL, arrival: 9 }),
      req('n1', { priority: NORMAL, arrival: 3 }),
      req('high', { priority: HIGH, arrival: 8 }),
    ];
    expect(policy.order(queue, 10).map((r) => r.id)).toEqual(['crit', 'high', 'n1', 'n2', 'low', 'bg']);
    const result = policy.schedule(queue, ctx([inst('g', { maxConcurrency: 3 })], { now: 10 }));
    expect(ids(result.decisions)).toEqual(['crit', 'high', 'n1']);
  });

  it('ages: a LOW request that waited long enough beats a fresh HIGH one', () => {
    const one = [inst('g', { maxConcurrency: 1 })];
    const fresh = req('high', { priority: HIGH, arrival: 9_990 });
    // Waited 1.5 s: aged one class (to NORMAL), still behind HIGH.
    expect(ids(policy.schedule([fresh, req('low', { priority: LOW, arrival: 8_500 })], ctx(one, { now: 10_000 })).decisions)).toEqual(['high']);
    // Waited 2 s: aged two classes (to HIGH) and arrived earlier.
    const result = policy.schedule([fresh, req('low', { priority: LOW, arrival: 8_000 })], ctx(one, { now: 10_000 }));
    expect(ids(result.decisions)).toEqual(['low']);
    expect(result.decisions[0].reason).toMatch(/aged to HIGH/);
  });

  it('does not age a request with a deadline: its deadline bounds its wait, and a fresh HIGH one goes first', () => {
    const one = [inst('g', { maxConcurrency: 1 })];
    const fresh = req('high', { priority: HIGH, arrival: 9_990, sloDeadlineMs: 3_000 });
    // Waited 9 s, 9 classes' worth of aging at 1 s: with a minute of deadline it is still LOW.
    const patient = req('low', { priority: LOW, arrival: 1_000, sloDeadlineMs: 60_000 });
    expect(ids(policy.schedule([patient, fresh], ctx(one, { now: 10_000 })).decisions)).toEqual(['high']);
    expect(policy.order([patient, fresh], 10_000).map((r) => r.id)).toEqual(['high', 'low']);
    // A first-token deadline counts too; the same request without a deadline has aged to CRITICAL.
    const ttft = req('low-ttft', { priority: LOW, arrival: 1_000, ttftDeadlineMs: 20_000 });
    const plain = req('low-plain', { priority: LOW, arrival: 1_000 });
    expect(policy.order([ttft, fresh, plain], 10_000).map((r) => r.id)).toEqual(['low-plain', 'high', 'low-ttft']);
  });

  it('serves BACKGROUND under a constant stream of HIGH requests (and would not without aging)', () => {
    const roundsUntilServed = (p: SchedulingPolicy, maxRounds: number) => {
      let queue: RequestMetadata[] = [req('bg', { priority: BACKGROUND, arrival: 0 })];
      for (let round = 0; round < maxRounds; round++) {
        const now = round * 250;
        queue.push(req(`h${round}`, { priority: HIGH, arrival: now }), req(`h${round}b`, { priority: HIGH, arrival: now }));
        const result = p.schedule(queue, ctx([inst('g', { maxConcurrency: 1 })], { now }));
        expect(result.decisions).toHaveLength(1); // one slot per round, always used
        const served = new Set(ids(result.decisions));
        if (served.has('bg')) return round;
        queue = queue.filter((r) => !served.has(r.id));
      }
      return Infinity;
    };
    // 4 classes of aging at 1 s each: served by round 16 (4 s at 250 ms a round) at the latest.
    expect(roundsUntilServed(new PriorityPolicy({ agingMs: 1_000 }), 60)).toBeLessThanOrEqual(16);
    expect(roundsUntilServed(new PriorityPolicy({ agingMs: 1e12 }), 60)).toBe(Infinity);
  });

  it('sends urgent classes to the lowest-latency instance, others by the router', () => {
    const fast = inst('fast', { load: { activeRequests: 1 } }); // busier, but quick
    const slow = inst('slow', { load: { ewmaTtftMs: 2_000 } }); // idle, but slow to first token
    const result = policy.schedule([req('h', { priority: HIGH }), req('n', { priority: NORMAL, arrival: 1 })], ctx([fast, slow], { now: 2 }));
    expect(target(result, 'h')).toBe('fast');
    expect(target(result, 'n')).toBe('slow'); // least loaded by ratio
    expect(result.decisions[0].reason).toMatch(/urgent/);
  });
});

describe('slo_aware', () => {
  it('serves the earliest deadline first', () => {
    const queue = [req('a', { sloDeadlineMs: 10_000 }), req('b', { sloDeadlineMs: 3_000 }), req('c', { sloDeadlineMs: 5_000 }), req('none')];
    const result = createPolicy('slo_aware').schedule(queue, ctx([inst('g', { maxConcurrency: 2 })]));
    expect(ids(result.decisions)).toEqual(['b', 'c']);
    expect(result.rejections).toEqual([]);
  });

  it('rejects at once a request that can no longer meet its deadline, even when every slot is taken', () => {
    const full = inst('g', { maxConcurrency: 1, load: { activeRequests: 1 } });
    const queue = [req('ok', { sloDeadlineMs: 60_000 }), req('tight', { sloDeadlineMs: 100 }), req('late', { sloDeadlineMs: 5_000, arrival: 0 })];
    const result = createPolicy('slo_aware').schedule(queue, ctx([full], { now: 6_000 }));
    expect(result.decisions).toEqual([]);
    expect(result.rejections.map((r) => [r.requestId, r.code])).toEqual([
      ['tight', 'deadline_infeasible'],
      ['late', 'deadline_infeasible'],
    ]);
    for (const r of result.rejections) expect(r.retryAfterSec).toBeGreaterThanOrEqual(1);
  });

  it('rejects on an infeasible TTFT deadline too', () => {
    const slow = inst('slow', { load: { ewmaTtftMs: 3_000 } });
    const result = createPolicy('slo_aware').schedule([req('t', { ttftDeadlineMs: 500 })], ctx([slow]));
    expect(result.rejections).toMatchObject([{ requestId: 't', code: 'deadline_infeasible' }]);
  });

  it('demotes instead of rejecting when so configured', () => {
    const result = createPolicy('slo_aware', { onInfeasible: 'demote' }).schedule([req('tight', { sloDeadlineMs: 100 })], ctx([inst('g')]));
    expect(result.rejections).toEqual([]);
    expect(result.decisions).toMatchObject([{ requestId: 'tight', instanceId: 'g', reason: expect.stringMatching(/demoted/) }]);
  });

  it('waits for a busy instance that can make the deadline rather than use one that cannot', () => {
    const fastButFull = inst('fast', { load: { activeRequests: 4 } });
    const slowButFree = inst('slow', { load: { ewmaTtftMs: 5_000 } });
    const result = createPolicy('slo_aware').schedule([req('r', { sloDeadlineMs: 3_000 })], ctx([fastButFull, slowButFree]));
    expect(result).toEqual({ decisions: [], rejections: [] });
  });
});

describe('cost_optimized', () => {
  const cheapSlow = inst('cheap', { costPerHour: 1, load: { ewmaTtftMs: 5_000 } });
  const mid = inst('mid', { costPerHour: 3 });
  const pricey = inst('pricey', { costPerHour: 10 });

  it('picks the cheapest instance that meets the deadline, skipping a cheaper one that would miss it', () => {
    const result = createPolicy('cost_optimized').schedule([req('r', { sloDeadlineMs: 3_000 })], ctx([pricey, cheapSlow, mid]));
    expect(result.decisions).toMatchObject([{ requestId: 'r', instanceId: 'mid', policy: 'cost_optimized' }]);
    expect(result.decisions[0].reason).toMatch(/1 cheaper would miss it/);
    expect(result.decisions[0].estimatedCost).toBeGreaterThan(0);
  });

  it('without a deadline takes the cheapest with capacity', () => {
    const full = inst('free-but-full', { costPerHour: 0.5, maxConcurrency: 1, load: { activeRequests: 1 } });
    const result = createPolicy('cost_optimized').schedule([req('r')], ctx([pricey, mid, cheapSlow, full]));
    expect(target(result, 'r')).toBe('cheap');
  });

  it('rejects when no instance can meet the deadline', () => {
    const result = createPolicy('cost_optimized').schedule([req('r', { sloDeadlineMs: 50 })], ctx([cheapSlow, mid]));
    expect(result.rejections).toMatchObject([{ requestId: 'r', code: 'deadline_infeasible' }]);
  });
});

describe('adaptive', () => {
  const pool = [inst('a', { costPerHour: 1 }), inst('b', { costPerHour: 2 })];
  const run = (queue: RequestMetadata[], instances: ExecutionInstance[] = pool) => {
    const p = new AdaptivePolicy();
    const result = p.schedule(queue, ctx(instances));
    return { result, choice: p.lastChoice };
  };

  it('records the delegate it used in every decision', () => {
    const withDeadline = run([req('d', { sloDeadlineMs: 60_000 }), req('n')]);
    expect(withDeadline.choice?.delegate).toBe('slo_aware');
    expect(withDeadline.result.decisions.map((d) => d.policy)).toEqual(['adaptive→slo_aware', 'adaptive→slo_aware']);

    const mixed = run([req('h', { priority: HIGH }), req('n')]);
    expect(mixed.result.decisions.every((d) => d.policy === 'adaptive→priority')).toBe(true);

    const light = run([req('1'), req('2')]);
    expect(light.result.decisions.every((d) => d.policy === 'adaptive→cost_optimized')).toBe(true);
    expect(light.result.decisions.every((d) => d.instanceId === 'a')).toBe(true);
  });

  it('switches to fifo under contention with uniform work', () => {
    const queue = Array.from({ length: 12 }, (_, k) => req(`r${k}`, { arrival: k }));
    const { result, choice } = run(queue);
    expect(choice?.delegate).toBe('fifo');
    expect(result.decisions).toHaveLength(8);
    expect(result.decisions.every((d) => d.policy === 'adaptive→fifo')).toBe(true);
  });
});

describe('hybrid', () => {
  const shared = () => inst('mix', { type: InstanceType.LLM_EMBEDDING, maxConcurrency: 1 });
  const emb = (id: string, over: Partial<RequestMetadata> & { arrival?: number } = {}) => req(id, { type: RequestType.EMBEDDING, ...over });

  it('orders embedding against LLM work by embeddingPriority on a shared instance', () => {
    const queue = [emb('e', { arrival: 0 }), req('c', { arrival: 0 })];
    const winner = (embeddingPriority: 'high' | 'normal' | 'low' | 'adaptive', q = queue, now = 0) =>
      ids(createPolicy('hybrid', { embeddingPriority }).schedule(q, ctx([shared()], { now })).decisions);
    expect(winner('high')).toEqual(['e']);
    expect(winner('low')).toEqual(['c']);
    expect(winner('normal')).toEqual(['e']); // one slot, demand split 1:1, rounded up for embeddings
    expect(winner('adaptive', [emb('e', { arrival: 0 }), req('c', { priority: HIGH })])).toEqual(['c']);
    expect(winner('adaptive', [emb('e', { arrival: 0 }), req('c', { arrival: 490 })], 500)).toEqual(['e']);
  });

  it('prefers dedicated EMBEDDING instances, one slot per queued embedding request, in arrival order', () => {
    const dedicated = inst('emb', { type: InstanceType.EMBEDDING, maxConcurrency: 1 });
    const queue = Array.from({ length: 3 }, (_, k) => emb(`e${k}`, { arrival: k }));
    const result = createPolicy('hybrid', { embeddingPriority: 'high' }).schedule(queue, ctx([shared(), dedicated]));
    expect(result.decisions.map((d) => [d.requestId, d.instanceId])).toEqual([
      ['e0', 'emb'],
      ['e1', 'mix'],
    ]);
  });

  it('forms no batches itself: it places the batches the batcher formed and names them', () => {
    const any = inst('emb', { type: InstanceType.EMBEDDING, models: [], maxConcurrency: 4 });
    const batch = emb('embbatch-7', { embeddingTexts: ['a', 'b', 'c'], tags: { batch: 'embbatch-7', members: '2' } });
    const result = createPolicy('hybrid').schedule([batch, emb('a'), emb('b')], ctx([any]));
    expect(result.decisions).toHaveLength(3);
    expect(result.decisions.find((d) => d.requestId === 'embbatch-7')).toMatchObject({ batchId: 'embbatch-7', reason: expect.stringContaining('embedding batch embbatch-7 of 2 requests (3 texts)') });
    // Two lone requests of the same model stay two requests: merging them is the batcher's decision, not the policy's.
    expect(result.decisions.filter((d) => d.batchId !== undefined)).toHaveLength(1);
  });

  it('schedules LLM work under the configured fallback policy and says so', () => {
    const pool = [inst('g'), inst('emb', { type: InstanceType.EMBEDDING })];
    const adaptive = createPolicy('hybrid').schedule([req('c'), emb('e')], ctx(pool));
    expect(adaptive.decisions.find((d) => d.requestId === 'c')?.policy).toMatch(/^hybrid→adaptive→/);
    expect(adaptive.decisions.find((d) => d.requestId === 'e')).toMatchObject({ policy: 'hybrid', instanceId: 'emb' });
    const prio = createPolicy('hybrid', { llmFallbackPolicy: 'priority' }).schedule([req('c')], ctx(pool));
    expect(prio.decisions).toMatchObject([{ requestId: 'c', instanceId: 'g', policy: 'hybrid→priority' }]);
  });
});

describe('every policy', () => {
  const classifier = (instances: readonly ExecutionInstance[], r: RequestMetadata, id: string) =>
    instances.some((i) => i.id === id) &&
    (r.type === RequestType.EMBEDDING ? ['EMBEDDING', 'LLM_EMBEDDING'] : ['GENERAL', 'HYBRID', 'LLM_EMBEDDING', 'PREFILLING', 'DECODING']).includes(
      instances.find((i) => i.id === id)!.type,
    );

  it('keys decisions by request id, never by position: a reordering policy gives each request its own kind of instance', () => {
    const pool = [inst('emb', { type: InstanceType.EMBEDDING }), inst('gen')];
    const queue = [emb('e-low', LOW, 0), req('c-high', { priority: HIGH, arrival: 1 })];
    for (const name of POLICY_NAMES) {
      const result = createPolicy(name).schedule(queue, ctx(pool, { now: 2 }));
      expect({ name, e: target(result, 'e-low'), c: target(result, 'c-high') }).toEqual({ name, e: 'emb', c: 'gen' });
    }
    expect(ids(createPolicy('priority').schedule(queue, ctx(pool, { now: 2 })).decisions)).toEqual(['c-high', 'e-low']);
  });

  it('never exceeds free capacity, never decides a request twice, and only uses compatible instances', () => {
    const rng = mulberry32(2024);
    const int = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
    const totals = new Map<string, { decided: number; rejected: number }>(POLICY_NAMES.map((n) => [n, { decided: 0, rejected: 0 }]));
    const kinds = [InstanceType.GENERAL, InstanceType.HYBRID, InstanceType.EMBEDDING, InstanceType.LLM_EMBEDDING, InstanceType.DECODING];
    for (let trial = 0; trial < 40; trial++) {
      const instances = Array.from({ length: int(1, 5) }, (_, k) => {
        const maxConcurrency = int(1, 6);
        return inst(`i${k}`, {
          type: kinds[int(0, kinds.length - 1)],
          maxConcurrency,
          costPerHour: int(0, 5),
          load: { activeRequests: int(0, maxConcurrency + 1), queuedRequests: int(0, 3), ewmaTtftMs: int(0, 1) * 400 },
        });
      });
      const now = 10_000;
      const queue = Array.from({ length: int(0, 25) }, (_, k) => {
        const type = [RequestType.LLM_CHAT, RequestType.LLM_GENERATE, RequestType.EMBEDDING][int(0, 2)];
        return req(`r${k}`, {
          type,
          priority: int(0, 4) as RequestPriority,
          arrival: now - int(0, 5_000),
          sloDeadlineMs: int(0, 2) === 0 ? int(500, 12_000) : undefined,
        });
      });
      for (const name of POLICY_NAMES) {
        const policy = createPolicy(name, { rejectUnroutable: trial % 2 === 0 });
        const router = createRouter('load_balanced', { rng: mulberry32(trial) });
        const result = policy.schedule(queue, ctx(instances, { now, router }));
        const decided = ids(result.decisions);
        const rejected = ids(result.rejections);
        totals.get(name)!.decided += decided.length;
        totals.get(name)!.rejected += rejected.length;
        expect(new Set(decided).size).toBe(decided.length);
        expect(decided.filter((id) => rejected.includes(id))).toEqual([]);
        const slotsUsed = new Map<string, Set<string>>();
        for (const d of result.decisions) {
          const r = queue.find((q) => q.id === d.requestId);
          expect(r).toBeDefined();
          expect(classifier(instances, r!, d.instanceId)).toBe(true);
          const units = slotsUsed.get(d.instanceId) ?? new Set<string>();
          units.add(d.batchId ?? d.requestId); // a batch occupies one slot
          slotsUsed.set(d.instanceId, units);
        }
        for (const i of instances) {
          const free = Math.max(0, i.maxConcurrency - i.load.activeRequests);
          expect({ name, trial, id: i.id, used: slotsUsed.get(i.id)?.size ?? 0 }).toEqual({
            name,
            trial,
            id: i.id,
            used: Math.min(slotsUsed.get(i.id)?.size ?? 0, free),
          });
        }
      }
    }
    // The random snapshots really exercised placement (and, for the deadline-aware policies, rejection).
    for (const [name, t] of totals) expect({ name, busy: t.decided > 50 }).toEqual({ name, busy: true });
    expect(totals.get('slo_aware')!.rejected).toBeGreaterThan(0);
  });
});

function emb(id: string, priority: RequestPriority, arrival: number): RequestMetadata {
  return req(id, { type: RequestType.EMBEDDING, priority, arrival });
}
