// F-203/F-204: a request with a deadline is judged behind the queue the policy serves before it, not only by
// the instance's own load. Behind a busy one-slot engine and N queued requests, with an estimator that says
// every request takes 100 ms, a request waits about N × 100 ms for the queue ahead of it: cost_optimized (arrival
// order, like fifo, but deadline-aware) refuses a deadline that cannot absorb that at once, priority and
// slo_aware admit the request they would serve first, and the queued-deadline watch refuses a queued request
// once the backlog leaves it no slack. fifo, the deadline-blind baseline, refuses nothing by deadline: the
// request waits its turn and its miss is measured.
import { RequestRejectedError } from '../../src/control-plane/manager';
import { RequestPriority, type LatencyEstimator } from '../../src/control-plane/types';
import { echoCompletion, scriptedUpstream, type ScriptedUpstream } from './executor-upstream-helpers';
import { ask, text, until, useManagers, within } from './manager-test-kit';

const SERVICE_MS = 100;
/** Every request takes SERVICE_MS wherever it runs: the backlog term is then exactly N × SERVICE_MS. */
const fixedEstimate: LatencyEstimator = { estimate: () => SERVICE_MS };

/** One slot, held by a 'block' request until the test opens the gate; every other request is answered at once. */
async function busyEngine(): Promise<{ up: ScriptedUpstream; open: () => void; answered: string[] }> {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const answered: string[] = [];
  const up = await scriptedUpstream((_req, res, body) => {
    const last = (body.messages as Array<{ content: string }>).at(-1)?.content ?? '';
    const answer = () => {
      answered.push(last);
      echoCompletion(res, body, 'u');
    };
    if (last === 'block') void gate.then(answer);
    else answer();
  });
  return { up, open, answered };
}

describe('deadlines behind the control-plane queue', () => {
  const manager = useManagers();

  /** A manager whose only slot is taken, with `n` requests queued behind it (settled ones are counted). */
  async function backlogged(policy: string, n: number, queued: (i: number) => Record<string, unknown> = () => ({})) {
    const engine = await busyEngine();
    const m = manager({ policy, estimator: fixedEstimate });
    m.registerInstance({ id: 'u', baseUrl: engine.up.baseUrl, models: ['m'], maxConcurrency: 1 });
    const blocker = m.submit(ask('block'));
    await until(() => engine.up.hits === 1);
    const settled = { n: 0 };
    const backlog = Array.from({ length: n }, (_, i) => {
      const p = m.submit({ ...ask(`q${i}`), ...queued(i) });
      void p.finally(() => (settled.n += 1)).catch(() => undefined);
      return p;
    });
    expect(m.queueLength).toBe(n);
    return { ...engine, m, blocker, backlog, settled };
  }

  it('an arrival-order policy that judges deadlines refuses at once a deadline the backlog ahead makes infeasible, naming the backlog', async () => {
    const { up, open, m, blocker, backlog, settled } = await backlogged('cost_optimized', 25);
    // 25 ahead on one slot: 25 × 100 ms of wait plus its own 100 ms, against a 2 s deadline.
    const err = await within(m.submit({ ...ask('late'), sloDeadlineMs: 2000 }).catch((e: unknown) => e), 1000);
    expect(err).toBeInstanceOf(RequestRejectedError);
    expect(err).toMatchObject({ status: 503, code: 'deadline_infeasible', type: 'service_unavailable' });
    expect((err as RequestRejectedError).retryAfterSec).toBeGreaterThanOrEqual(1);
    expect((err as Error).message).toContain('best estimate 2600 ms with 25 requests ahead');
    // At once: nothing ahead of it has finished, and it never entered the queue.
    expect(settled.n).toBe(0);
    expect(up.hits).toBe(1);
    expect(m.queueLength).toBe(25);

    // A deadline the backlog leaves room for is still admitted, and requests without one are untouched.
    const roomy = m.submit({ ...ask('roomy'), sloDeadlineMs: 10_000 });
    const patient = m.submit(ask('patient'));
    expect(m.queueLength).toBe(27);
    open();
    await within(blocker);
    await within(Promise.all(backlog));
    expect(text((await within(roomy)).body)).toBe('u: roomy');
    expect(text((await within(patient)).body)).toBe('u: patient');
    expect(m.getMetrics().rejections.deadline_infeasible).toBe(1);
  });

  it('priority admits a HIGH request with the same deadline behind the same LOW backlog, and serves it first', async () => {
    const { open, answered, m, blocker, backlog } = await backlogged('priority', 25, () => ({ priority: RequestPriority.LOW }));
    const urgent = m.submit({ ...ask('urgent'), priority: RequestPriority.HIGH, sloDeadlineMs: 2000 });
    expect(m.queueLength).toBe(26); // admitted: nothing of its class or above waits ahead of it
    open();
    expect(text((await within(urgent)).body)).toBe('u: urgent');
    await within(blocker);
    await within(Promise.all(backlog));
    expect(answered.slice(0, 2)).toEqual(['block', 'urgent']);
    expect(m.getMetrics().rejections.deadline_infeasible).toBeUndefined();
  });

  it('slo_aware admits a request whose deadline is earlier than every queued one, and serves it first', async () => {
    const { open, answered, m, blocker, backlog } = await backlogged('slo_aware', 25, () => ({ sloDeadlineMs: 30_000 }));
    const early = m.submit({ ...ask('early'), sloDeadlineMs: 2000 });
    expect(m.queueLength).toBe(26); // admitted: no queued deadline comes before its own (cost_optimized refuses it, above)
    open();
    expect(text((await within(early)).body)).toBe('u: early');
    await within(blocker);
    await within(Promise.all(backlog));
    expect(answered.slice(0, 2)).toEqual(['block', 'early']);
  });

  it('the queued-deadline watch refuses a queued request once the backlog ahead leaves it no slack', async () => {
    const { up, open, m, blocker, backlog, settled } = await backlogged('cost_optimized', 10);
    const arrived = Date.now();
    // 10 ahead: 1100 ms against 1500 ms — admitted, with 400 ms of slack before the backlog makes it late.
    const late = m.submit({ ...ask('late'), sloDeadlineMs: 1500 });
    expect(m.queueLength).toBe(11);
    const err = await within(late.catch((e: unknown) => e), 5000);
    const after = Date.now() - arrived;
    expect(err).toMatchObject({ status: 503, code: 'deadline_infeasible' });
    expect((err as Error).message).toMatch(/best estimate 1100 ms with 10 requests ahead/);
    expect(after).toBeGreaterThanOrEqual(400 - 5);
    // Not at the deadline (1500 ms) nor when a slot frees: the gate is still shut and nothing ahead has finished.
    expect(settled.n).toBe(0);
    expect(up.hits).toBe(1);
    open();
    await within(blocker);
    await within(Promise.all(backlog));
  });

  it('fifo neither refuses nor drops a request by deadline: it waits its turn past the deadline, is served, and counts as a miss', async () => {
    const { answered, open, m, blocker, backlog, settled } = await backlogged('fifo', 25);
    const arrived = Date.now();
    // The backlog makes a 300 ms deadline hopeless (2600 ms estimated): a deadline-aware policy refuses it here.
    const late = m.submit({ ...ask('late'), sloDeadlineMs: 300 });
    expect(m.queueLength).toBe(26);
    // Past its deadline it is still queued: no watch took it out.
    await until(() => Date.now() - arrived > 600);
    expect(m.queueLength).toBe(26);
    expect(settled.n).toBe(0);
    open();
    expect(text((await within(late)).body)).toBe('u: late');
    await within(blocker);
    await within(Promise.all(backlog));
    // Served in arrival order, after everything that came before it.
    expect(answered.at(-1)).toBe('late');
    const snap = m.getMetrics();
    expect(snap.rejections.deadline_infeasible).toBeUndefined();
    expect(snap.slo.overall.missed).toBe(1);
    expect(snap.slo.overall.met).toBe(0);
  });

  it('a queued request whose backlog drains in time is served', async () => {
    const { open, m, blocker, backlog } = await backlogged('cost_optimized', 3);
    // 3 ahead: 400 ms against 3 s; the gate opens at once and the queue drains long before the slack runs out.
    const fits = m.submit({ ...ask('fits'), sloDeadlineMs: 3000 });
    open();
    expect(text((await within(fits)).body)).toBe('u: fits');
    await within(blocker);
    await within(Promise.all(backlog));
    expect(m.getMetrics().rejections.deadline_infeasible).toBeUndefined();
  });
});
