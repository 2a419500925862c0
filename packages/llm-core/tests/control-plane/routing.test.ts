import {
  AffinityRouter,
  LocalityRouter,
  PrefixAwareRouter,
  TopologyAwareRouter,
  withinLoadBound,
} from '../../src/control-plane/routing';
import { ROUTER_NAMES, createRouter, type ExecutionInstance } from '../../src';
import { inst, mulberry32, req, withLoad } from './policies-fixtures';

describe('createRouter', () => {
  it('creates every named strategy', () => {
    for (const name of ROUTER_NAMES) expect(createRouter(name).name).toBe(name);
  });
  it('throws on an unknown name, listing the valid ones', () => {
    expect(() => createRouter('nope')).toThrow(/unknown routing strategy "nope".*load_balanced.*topology_aware/);
  });
});

describe('load_balanced', () => {
  it('picks the least outstanding work normalised by concurrency', () => {
    const r = createRouter('load_balanced', { rng: mulberry32(1) });
    const big = inst('big', { maxConcurrency: 16, load: { activeRequests: 6 } }); // 0.375
    const small = inst('small', { maxConcurrency: 4, load: { activeRequests: 1, queuedRequests: 1 } }); // 0.5
    expect(r.route(req('a'), [small, big])?.id).toBe('big');
  });
  it('breaks ties with two random choices, so equal instances share the work', () => {
    const r = createRouter('load_balanced', { rng: mulberry32(42) });
    const equal = [inst('a'), inst('b'), inst('c')];
    const seen = new Map<string, number>();
    for (let k = 0; k < 300; k++) {
      const id = r.route(req(`r${k}`), equal)!.id;
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    expect([...seen.keys()].sort()).toEqual(['a', 'b', 'c']);
    for (const n of seen.values()) expect(n).toBeGreaterThan(50);
  });
  it('is deterministic for a given RNG seed', () => {
    const pick = () => {
      const r = createRouter('load_balanced', { rng: mulberry32(9) });
      return Array.from({ length: 20 }, (_, k) => r.route(req(`r${k}`), [inst('a'), inst('b'), inst('c')])!.id);
    };
    expect(pick()).toEqual(pick());
  });
  it('returns undefined without candidates', () => {
    expect(createRouter('load_balanced').route(req('a'), [])).toBeUndefined();
  });
});

describe('round_robin', () => {
  it('cycles through instances by id and stays fair when the candidate set shrinks', () => {
    const r = createRouter('round_robin');
    const [a, b, c] = [inst('a'), inst('b'), inst('c')];
    expect([1, 2, 3, 4].map(() => r.route(req('x'), [c, a, b])!.id)).toEqual(['a', 'b', 'c', 'a']);
    expect(r.route(req('x'), [a, c])!.id).toBe('c'); // b is full: the next after b
  });
});

describe('affinity', () => {
  it('keeps a session on one instance until its load bound, then moves and re-sticks', () => {
    const r = new AffinityRouter({ epsilon: 0.25, rng: mulberry32(3) });
    let pool: ExecutionInstance[] = [
      inst('a', { maxConcurrency: 10, load: { activeRequests: 3 } }),
      inst('b', { maxConcurrency: 10, load: { activeRequests: 4 } }),
      inst('c', { maxConcurrency: 10, load: { activeRequests: 4 } }),
    ];
    const session = req('s', { sessionId: 'chat-1' });
    const route = () => {
      const before = pool;
      const chosen = r.route(session, pool)!;
      // The routed request lands on the chosen instance: the next snapshot carries its load.
      pool = pool.map((i) => (i.id === chosen.id ? withLoad(i, { activeRequests: i.load.activeRequests + 1 }) : i));
      return { id: chosen.id, before };
    };
    const trace = Array.from({ length: 8 }, route);
    const ids = trace.map((t) => t.id);
    const firstMove = ids.findIndex((id) => id !== 'a');
    expect(ids[0]).toBe('a'); // least loaded at first
    expect(firstMove).toBeGreaterThan(2); // stayed for several requests while above the average
    expect(ids.slice(0, firstMove).every((id) => id === 'a')).toBe(true);
    // It moved exactly when a crossed its bound, and only then.
    const atMove = trace[firstMove].before;
    expect(withinLoadBound(atMove.find((i) => i.id === 'a')!, atMove, 0.25)).toBe(false);
    const prev = trace[firstMove - 1].before;
    expect(withinLoadBound(prev.find((i) => i.id === 'a')!, prev, 0.25)).toBe(true);
    // Re-stuck to the new instance.
    const moved = ids[firstMove];
    expect(ids[firstMove + 1]).toBe(moved);
    expect(r.stickyInstance(session)).toBe(moved);
  });

  it('keys by user when there is no session, and forgets removed instances', () => {
    const r = new AffinityRouter({ rng: mulberry32(5) });
    const pool = [inst('a'), inst('b')];
    const first = r.route(req('1', { userId: 'alice' }), pool)!.id;
    for (let k = 0; k < 5; k++) expect(r.route(req(`${k}`, { userId: 'alice' }), pool)!.id).toBe(first);
    r.onInstancesChanged(pool.filter((i) => i.id !== first));
    expect(r.stickyInstance(req('x', { userId: 'alice' }))).toBeUndefined();
  });
});

describe('locality (consistent hashing)', () => {
  const keys = Array.from({ length: 10_000 }, (_, k) => req(`r${k}`, { userId: `user-${k}` }));

  it('sends the same model+user to the same instance', () => {
    const r = new LocalityRouter();
    const pool = [inst('a'), inst('b'), inst('c')];
    r.onInstancesChanged(pool);
    const first = r.route(keys[0], pool)!.id;
    for (let k = 0; k < 5; k++) expect(r.route(keys[0], pool)!.id).toBe(first);
  });

  it('remaps about 1/n of 10,000 keys when a 5th instance is added, all of them to the new one', () => {
    const four = ['i1', 'i2', 'i3', 'i4'].map((id) => inst(id));
    const five = [...four, inst('i5')];
    const r = new LocalityRouter();
    r.onInstancesChanged(four);
    const before = keys.map((k) => r.route(k, four)!.id);
    r.onInstancesChanged(five);
    const after = keys.map((k) => r.route(k, five)!.id);
    const moved = after.filter((id, k) => id !== before[k]);
    const fraction = moved.length / keys.length;
    expect(fraction).toBeGreaterThan(0.1);
    expect(fraction).toBeLessThan(0.35);
    expect(new Set(moved)).toEqual(new Set(['i5']));
    // Each instance holds a fair share (virtual nodes smooth the ring).
    for (const id of ['i1', 'i2', 'i3', 'i4', 'i5']) expect(after.filter((x) => x === id).length).toBeGreaterThan(1_000);
  });

  it('falls through to the next instance on the ring when the owner is not a candidate', () => {
    const pool = [inst('a'), inst('b'), inst('c')];
    const r = new LocalityRouter();
    r.onInstancesChanged(pool);
    const owner = r.owner(keys[1])!;
    const other = r.route(keys[1], pool.filter((i) => i.id !== owner))!.id;
    expect(other).not.toBe(owner);
    expect(r.route(keys[1], pool)!.id).toBe(owner);
  });
});

describe('prefix_aware', () => {
  const system = Array.from({ length: 40 }, (_, k) => `Rule ${k}: answer precisely, cite the sources you used, and keep it short.`).join(' ');
  const chat = (id: string, sys: string, question: string) =>
    req(id, { messages: [{ role: 'system', content: sys }, { role: 'user', content: question }] });

  it('sends two requests sharing a long prefix to the same instance, a different prefix by load', () => {
    const r = new PrefixAwareRouter({ rng: mulberry32(11) });
    let pool = [inst('a', { maxConcurrency: 8 }), inst('b', { maxConcurrency: 8 }), inst('c', { maxConcurrency: 8 })];
    const first = r.route(chat('1', system, 'What is consistent hashing?'), pool)!;
    pool = pool.map((i) => (i.id === first.id ? withLoad(i, { activeRequests: 2 }) : i)); // now the busiest
    const second = chat('2', system, 'And what is a KV cache?');
    expect(r.longestMatch(second, pool)).toMatchObject({ instanceId: first.id });
    expect(r.longestMatch(second, pool)!.blocks).toBeGreaterThan(20);
    expect(r.route(second, pool)!.id).toBe(first.id);

    const different = chat('3', 'You are a pirate. Speak like one at all times, whatever the question.', 'Hello?');
    const third = r.route(different, pool)!;
    expect(third.id).not.toBe(first.id); // no shared prefix: least loaded wins
    expect(third.load.activeRequests).toBe(0);
  });

  it('gives up the prefix match when that instance is far busier than the others', () => {
    const r = new PrefixAwareRouter({ rng: mulberry32(2), maxLoadImbalance: 0.5 });
    let pool = [inst('a', { maxConcurrency: 4 }), inst('b', { maxConcurrency: 4 })];
    const first = r.route(chat('1', system, 'q1'), pool)!;
    pool = pool.map((i) => (i.id === first.id ? withLoad(i, { activeRequests: 3 }) : i)); // 0.75 vs 0
    expect(r.route(chat('2', system, 'q2'), pool)!.id).not.toBe(first.id);
  });
});

describe('topology_aware', () => {
  const prefill = inst('p', { type: 'PREFILLING', topology: { machineId: 'm1', rackId: 'r1', nvlinkPeers: ['d-nvl'] } });
  const nvl = inst('d-nvl', { type: 'DECODING', topology: { machineId: 'm9', rackId: 'r9' } });
  const sameMachine = inst('d-machine', { type: 'DECODING', topology: { machineId: 'm1', rackId: 'r1' } });
  const sameRack = inst('d-rack', { type: 'DECODING', topology: { machineId: 'm2', rackId: 'r1' } });
  const remote = inst('d-remote', { type: 'DECODING', topology: { machineId: 'm3', rackId: 'r3' } });

  it('pairs NVLink peers over same machine over same rack over anything else', () => {
    const t = new TopologyAwareRouter({ rng: mulberry32(1) });
    expect(t.pairFor(prefill, [remote, sameRack, sameMachine, nvl])!.id).toBe('d-nvl');
    expect(t.pairFor(prefill, [remote, sameRack, sameMachine])!.id).toBe('d-machine');
    expect(t.pairFor(prefill, [remote, sameRack])!.id).toBe('d-rack');
    expect(t.pairFor(prefill, [remote])!.id).toBe('d-remote');
    expect(t.pairFor(prefill, [prefill])).toBeUndefined();
  });

  it('counts NVLink declared on either side, and balances load inside the best tier', () => {
    const t = new TopologyAwareRouter({ rng: mulberry32(1) });
    const peerBack = inst('d-back', { type: 'DECODING', topology: { nvlinkPeers: ['p'] } });
    const busyNvl = withLoad(nvl, { activeRequests: 3 });
    expect(t.pairFor(prefill, [sameMachine, busyNvl, peerBack])!.id).toBe('d-back');
    expect(t.choosePair(req('r'), [prefill], [remote, sameMachine])).toMatchObject({ prefill: { id: 'p' }, decode: { id: 'd-machine' }, tier: 'same_machine' });
  });
});
