// Engines killed by hand are healed by the control plane (issue 7, F-211), and stopping the server leaves
// no engine process alive and no port reserved.
import OpenAI from 'openai';
import { startHarness, alive, getJson, type Harness } from './harness';
import { waitFor } from '../support/processes';

const SUPERVISOR = { intervalMs: 250, failureThreshold: 2, backoffBaseMs: 200, healthTimeoutMs: 1000 };

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ runtime: { supervisor: SUPERVISOR } });
});
afterAll(async () => {
  await h?.stop();
});


it('heals a kill -9 of the sim-llm engine on the same id and port, and chat works again', async () => {
  const client = new OpenAI({ baseURL: h.baseURL, apiKey: 'x', maxRetries: 0 });
  const engines = h.cp.runtime.engines;
  const before = engines.getEngine('default-llm')!;
  expect(before.state).toBe('RUNNING');
  process.kill(before.pid!, 'SIGKILL');
  const killedAt = Date.now();

  // interval × threshold + first backoff, plus start-up; bounded generously for a loaded machine.
  const budget = SUPERVISOR.intervalMs * SUPERVISOR.failureThreshold + SUPERVISOR.backoffBaseMs + 15_000;
  const after = await waitFor(() => engines.getEngine('default-llm')!, (e) => e.state === 'RUNNING' && e.pid !== before.pid, budget);
  expect(after.state).toBe('RUNNING');
  expect(after.id).toBe(before.id);
  expect(after.port).toBe(before.port);
  expect(after.pid).not.toBe(before.pid);
  expect(after.restarts).toBeGreaterThanOrEqual(1);
  expect(after.events.some((e) => e.type === 'restart')).toBe(true);
  expect(alive(before.pid)).toBe(false);
  console.log(`healed in ${Date.now() - killedAt} ms`);

  const answer = await waitFor(
    () => client.chat.completions.create({ model: 'sage-sim-llm', messages: [{ role: 'user', content: 'hello again' }], max_tokens: 5 }).then((r) => r, () => undefined),
    (r) => r !== undefined,
    10_000,
  );
  expect(answer?.choices[0]?.message.content).toBeTruthy();
  const health = await getJson(`${h.cp.url}/health`);
  expect(health.status).toBe('ok');
});

it('leaves no engine process and no reserved port after the server stops', async () => {
  const pids = h.cp.runtime.engines.listEngines().map((e) => e.pid);
  expect(pids.every((p) => alive(p))).toBe(true);
  await h.cp.close(2000);
  expect(pids.filter((p) => alive(p))).toEqual([]);
  expect(h.cp.runtime.ports.reservations()).toEqual([]);
  expect(h.cp.runtime.gpus.listAllocations()).toEqual([]);
  const refused = await fetch(`${h.cp.url}/health`).then(
    () => 'answered',
    () => 'refused',
  );
  expect(refused).toBe('refused');
});
