// InstanceLease: the registry slot and the circuit breaker's permit are taken together and given back together,
// once, whatever path the request takes (success, failure, cancel, refused across replicas).
import { CircuitBreaker } from '../../src/control-plane/executor';
import { InstanceRegistry } from '../../src/control-plane/manager';
import { InstanceLease, LOCAL_SLOTS, type SharedSlots } from '../../src/control-plane/manager/instance-lease';

function setup(slots: SharedSlots = LOCAL_SLOTS) {
  const registry = new InstanceRegistry();
  const inst = registry.register({ id: 'i1', baseUrl: 'http://127.0.0.1:9/v1', models: ['m'], maxConcurrency: 2 });
  let now = 0;
  const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 100, now: () => now });
  const deps = { registry, breaker: () => breaker, slots };
  return { registry, inst, breaker, deps, advance: (ms: number) => (now += ms) };
}

test('taking counts the slot; giving back twice gives back once', () => {
  const { registry, inst, deps } = setup();
  const lease = InstanceLease.take(deps, inst)!;
  const other = InstanceLease.take(deps, inst)!;
  expect(registry.get('i1')!.load.activeRequests).toBe(2);
  expect(lease.release('none')).toBe(true);
  expect(lease.release('failure')).toBe(false);
  expect(registry.get('i1')!.load.activeRequests).toBe(1);
  other.release('none');
  expect(registry.get('i1')!.load.activeRequests).toBe(0);
});

test("a half-open circuit's single probe permit travels with the lease and comes back with it", () => {
  const { inst, breaker, deps, advance } = setup();
  breaker.onFailure(); // opens (threshold 1)
  expect(InstanceLease.take(deps, inst)).toBeUndefined();
  advance(100);
  const probe = InstanceLease.take(deps, inst)!;
  expect(probe).toBeDefined();
  expect(InstanceLease.take(deps, inst)).toBeUndefined(); // the probe is taken
  probe.release('none'); // cancelled: no verdict, the permit is back
  const next = InstanceLease.take(deps, inst)!;
  expect(next).toBeDefined();
  next.release('success', { latencyMs: 40, outputTokens: 8 });
  expect(breaker.currentState).toBe('closed');
});

test('success folds latency into the averages; failure counts against the circuit', () => {
  const { registry, inst, breaker, deps } = setup();
  InstanceLease.take(deps, inst)!.release('success', { latencyMs: 120, ttftMs: 30 });
  expect(registry.get('i1')!.load.ewmaLatencyMs).toBe(120);
  expect(registry.get('i1')!.load.ewmaTtftMs).toBe(30);
  InstanceLease.take(deps, inst)!.release('failure', { latencyMs: 9999 });
  expect(registry.get('i1')!.load.ewmaLatencyMs).toBe(120);
  expect(breaker.currentState).toBe('open');
});

test('refused across replicas: confirm() is false and the lease is already given back', async () => {
  const released: string[] = [];
  const { registry, inst, deps } = setup({ acquire: async () => false, release: (_i, id) => released.push(id) });
  const lease = InstanceLease.take(deps, inst)!;
  expect(await lease.confirm()).toBe(false);
  expect(lease.isReleased).toBe(true);
  expect(registry.get('i1')!.load.activeRequests).toBe(0);
  expect(released).toEqual([]); // nothing shared was held
});

test('a confirmed shared slot is given back to the store exactly once', async () => {
  const released: string[] = [];
  const { inst, deps } = setup({ acquire: async () => true, release: (_i, id) => released.push(id) });
  const lease = InstanceLease.take(deps, inst)!;
  expect(await lease.confirm()).toBe(true);
  lease.release('success', { latencyMs: 1 });
  lease.release('none');
  expect(released).toEqual([lease.leaseId]);
});

test("other replicas' requests count in the load, and freeing them wakes dispatch", () => {
  const { registry, inst, deps } = setup();
  const changes: string[] = [];
  registry.on('change', (reason) => changes.push(reason));
  const lease = InstanceLease.take(deps, inst)!;
  registry.setRemoteActive('i1', 1);
  expect(registry.get('i1')!.load.activeRequests).toBe(2);
  expect(registry.localActive('i1')).toBe(1);
  registry.setRemoteActive('i1', 0);
  expect(changes).toContain('capacity');
  lease.release('none');
  expect(registry.get('i1')!.load.activeRequests).toBe(0);
});

test("a request's end is told on 'capacity' (once, with the instance), not among the rarer 'change' events", () => {
  const { registry, inst, deps } = setup();
  const changes: string[] = [];
  const freed: string[] = [];
  registry.on('change', (reason) => changes.push(reason));
  registry.on('capacity', (id) => freed.push(id));
  InstanceLease.take(deps, inst)!.release('success', { latencyMs: 12.5, ttftMs: 3.25, outputTokens: 4 });
  InstanceLease.take(deps, inst)!.release('failure');
  expect(freed).toEqual(['i1', 'i1']);
  expect(changes).toEqual([]);
  const load = registry.get('i1')!.load;
  expect([load.ewmaLatencyMs, load.ewmaTtftMs, load.tokensPerSecond]).toEqual([12.5, 3.25, 320]);
});

test('a new instance has measured nothing: its load figures are all 0', () => {
  const { registry } = setup();
  expect(registry.get('i1')!.load).toEqual({ activeRequests: 0, queuedRequests: 0, kvCacheUsage: 0, ewmaLatencyMs: 0, ewmaTtftMs: 0, tokensPerSecond: 0 });
  expect(Object.is(registry.get('i1')!.load.ewmaTtftMs, 0)).toBe(true);
});
