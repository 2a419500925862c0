// F-204 deadlines while queued: a request whose deadline can no longer be met is refused (503
// deadline_infeasible, as at admission) by a timer — when the estimator says it cannot make it, at the latest
// when the deadline passes — not when the busy instance ahead of it frees a slot. Requests without a
// deadline, requests already dispatched, cancelled ones and a demoting policy are left alone.
import { RequestCancelledError, RequestRejectedError } from '../../src/control-plane/manager';
import type { LatencyEstimator } from '../../src/control-plane/types';
import { echoCompletion, scriptedUpstream, type ScriptedUpstream } from './executor-upstream-helpers';
import { ask, text, until, useManagers, within } from './manager-test-kit';

/** An estimator that always says `ms`: the test knows exactly when a deadline stops being feasible. */
const fixedEstimate = (ms: number): LatencyEstimator => ({ estimate: () => ms });

/** An engine that answers `block` only when the test opens the gate, everything else at once. */
async function gatedUpstream(): Promise<{ up: ScriptedUpstream; open: () => void }> {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const up = await scriptedUpstream((_req, res, body) => {
    const last = (body.messages as Array<{ content: string }>).at(-1)?.content;
    if (last === 'block') void gate.then(() => echoCompletion(res, body, 'u'));
    else echoCompletion(res, body, 'u');
  });
  return { up, open };
}

/** Settles with the time it settled at, so tests can compare orders. */
function timed<T>(p: Promise<T>): Promise<{ at: number; value?: T; err?: unknown }> {
  return p.then(
    (value) => ({ at: Date.now(), value }),
    (err: unknown) => ({ at: Date.now(), err }),
  );
}

describe('queued requests with a deadline', () => {
  const manager = useManagers();

  // Every policy that judges deadlines (fifo does not: manager-deadline-backlog.test.ts).
  describe.each(['cost_optimized', 'slo_aware', 'priority'])('under %s', (policy) => {
    it('is refused as soon as the estimate says its deadline cannot be met, long before the slot frees', async () => {
      const { up, open } = await gatedUpstream();
      const m = manager({ policy, estimator: fixedEstimate(100) });
      m.registerInstance({ id: 'u', baseUrl: up.baseUrl, models: ['m'], maxConcurrency: 1 });
      const blocker = timed(m.submit(ask('block')));
      await until(() => up.hits === 1);

      const arrived = Date.now();
      const late = await within(timed(m.submit({ ...ask('late'), sloDeadlineMs: 400 })), 5000);
      // Estimate 100 ms against 400 ms: feasible until ~300 ms after arrival, then refused.
      expect(late.err).toBeInstanceOf(RequestRejectedError);
      expect(late.err).toMatchObject({ status: 503, code: 'deadline_infeasible', type: 'service_unavailable' });
      expect((late.err as RequestRejectedError).retryAfterSec).toBeGreaterThanOrEqual(1);
      expect(late.at - arrived).toBeGreaterThanOrEqual(300 - 5);
      expect(m.queueLength).toBe(0);
      expect(up.hits).toBe(1); // it never reached the engine

      open();
      const done = await within(blocker);
      expect(text(done.value!.body)).toBe('u: block');
      expect(late.at).toBeLessThanOrEqual(done.at); // refused before the request ahead of it finished
      const snap = m.getMetrics();
      expect(snap.rejections.deadline_infeasible).toBe(1);
      expect(snap.slo.overall.missed).toBe(1);
    });
  });

  it('is refused at its deadline when the estimate says it could still make it until then', async () => {
    const { up, open } = await gatedUpstream();
    const m = manager({ policy: 'slo_aware', estimator: fixedEstimate(0) });
    m.registerInstance({ id: 'u', baseUrl: up.baseUrl, models: ['m'], maxConcurrency: 1 });
    const blocker = timed(m.submit(ask('block')));
    await until(() => up.hits === 1);

    const arrived = Date.now();
    const late = await within(timed(m.submit({ ...ask('late'), sloDeadlineMs: 250 })), 5000);
    expect(late.err).toMatchObject({ code: 'deadline_infeasible' });
    expect((late.err as Error).message).toContain('deadline passed');
    expect(late.at - arrived).toBeGreaterThanOrEqual(250 - 5);
    open();
    expect((await within(blocker)).at).toBeGreaterThanOrEqual(late.at);
  });

  it('leaves requests without a deadline, and a dispatched one whose deadline passes while it runs, to complete', async () => {
    const { up, open } = await gatedUpstream();
    const m = manager({ policy: 'slo_aware', estimator: fixedEstimate(10) });
    m.registerInstance({ id: 'u', baseUrl: up.baseUrl, models: ['m'], maxConcurrency: 1 });
    // Dispatched at once with a 200 ms deadline, then held by the engine well past it.
    const running = m.submit({ ...ask('block'), sloDeadlineMs: 200 });
    await until(() => up.hits === 1);
    const patient = m.submit(ask('patient'));
    await new Promise((r) => setTimeout(r, 400));
    expect(m.queueLength).toBe(1);
    open();
    expect(text((await within(running)).body)).toBe('u: block');
    expect(text((await within(patient)).body)).toBe('u: patient');
    expect(m.getMetrics().rejections.deadline_infeasible).toBeUndefined();
  });

  it('a cancelled queued request stays cancelled: its deadline watch is gone with it', async () => {
    const { up, open } = await gatedUpstream();
    const m = manager({ policy: 'slo_aware', estimator: fixedEstimate(10) });
    m.registerInstance({ id: 'u', baseUrl: up.baseUrl, models: ['m'], maxConcurrency: 1 });
    const blocker = m.submit(ask('block'));
    await until(() => up.hits === 1);
    const ac = new AbortController();
    const queued = m.submit({ ...ask('leaves'), sloDeadlineMs: 150, signal: ac.signal }).catch((e: unknown) => e);
    ac.abort();
    expect(await within(queued)).toBeInstanceOf(RequestCancelledError);
    await new Promise((r) => setTimeout(r, 250)); // past its deadline
    const snap = m.getMetrics();
    expect(snap.requests.cancelled).toBe(1);
    expect(snap.requests.rejected).toBe(0);
    open();
    await within(blocker);
  });

  it('under slo_aware with onInfeasible "demote", a late queued request is served as best effort', async () => {
    const { up, open } = await gatedUpstream();
    const m = manager({ policy: 'slo_aware', policyOptions: { onInfeasible: 'demote' }, estimator: fixedEstimate(10) });
    m.registerInstance({ id: 'u', baseUrl: up.baseUrl, models: ['m'], maxConcurrency: 1 });
    const blocker = m.submit(ask('block'));
    await until(() => up.hits === 1);
    const late = m.submit({ ...ask('late'), sloDeadlineMs: 100 });
    await new Promise((r) => setTimeout(r, 250));
    expect(m.queueLength).toBe(1);
    open();
    await within(blocker);
    expect(text((await within(late)).body)).toBe('u: late');
  });

  it('close() cancels a queued request with a deadline, and nothing fires after', async () => {
    const { up, open } = await gatedUpstream();
    const m = manager({ policy: 'slo_aware', estimator: fixedEstimate(10) });
    m.registerInstance({ id: 'u', baseUrl: up.baseUrl, models: ['m'], maxConcurrency: 1 });
    const blocker = m.submit(ask('block')).catch((e: unknown) => e);
    await until(() => up.hits === 1);
    const queued = m.submit({ ...ask('queued'), sloDeadlineMs: 200 }).catch((e: unknown) => e);
    const finished: string[] = [];
    m.on('finished', (r) => finished.push(r.outcome));
    await m.close();
    expect(await within(queued)).toBeInstanceOf(RequestCancelledError);
    await within(blocker);
    await new Promise((r) => setTimeout(r, 300)); // past the deadline: no late rejection is recorded
    expect(finished).not.toContain('rejected');
    open();
  });
});
