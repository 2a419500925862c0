// Reliability of the manager's I/O paths (SPEC §7, F-203, F-207, F-208): no request left hanging, no slot
// or circuit left held, against scripted upstreams on real ports. Each case is a bug that once existed.
import { ControlPlaneManager, RequestCancelledError, UpstreamError } from '../../src/control-plane/manager';
import { closeAllUpstreams, echoCompletion, jsonError, scriptedUpstream } from './executor-upstream-helpers';

const managers: ControlPlaneManager[] = [];
function manager(opts: ConstructorParameters<typeof ControlPlaneManager>[0] = {}) {
  const m = new ControlPlaneManager({ policy: 'fifo', ...opts });
  managers.push(m);
  return m;
}
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()));
  await closeAllUpstreams();
});

const ask = (content: string) => ({ model: 'm', messages: [{ role: 'user', content }] });
const text = (body: Record<string, unknown>) => (body.choices as Array<{ message: { content: string } }>)[0].message.content;

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The promise's outcome, or a failure naming the hang if it is still pending after `ms`. */
function within<T>(p: Promise<T>, ms = 3000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms (request hangs)`)), ms);
  });
  return Promise.race([p, hang]).finally(() => clearTimeout(timer));
}

describe('circuit breaker probes', () => {
  it('a half-open probe cancelled by its caller does not leave the circuit stuck half-open', async () => {
    let mode: 'fail' | 'hang' | 'ok' = 'fail';
    const up = await scriptedUpstream((_req, res, body) => {
      if (mode === 'fail') jsonError(res, 500, 'down');
      else if (mode === 'ok') echoCompletion(res, body, 'u');
      // 'hang': no answer
    });
    const m = manager({ maxAttempts: 1, circuitBreaker: { failureThreshold: 1, cooldownMs: 100 } });
    m.registerInstance({ id: 'u', baseUrl: up.baseUrl, models: ['m'] });
    await expect(m.submit(ask('a'))).rejects.toBeInstanceOf(UpstreamError);
    expect(m.getInstances()[0].circuit).toBe('open');

    mode = 'hang';
    const ac = new AbortController();
    const probe = m.submit({ ...ask('probe'), signal: ac.signal });
    await until(() => up.hits === 2); // the cooldown passed and the probe reached the engine
    ac.abort();
    await expect(probe).rejects.toBeInstanceOf(RequestCancelledError);

    mode = 'ok';
    const r = await within(m.submit(ask('after')));
    expect(text(r.body)).toBe('u: after');
    expect(m.getInstances()[0].circuit).toBe('closed');
  });
});
