// An embedded client runs the server's runtime, so its engines are supervised (F-211): a kill -9 of the
// sim-llm engine is healed on the same id and port, and chat works again on the restarted engine. close()
// then leaves no engine process (neither the killed one nor its successor) and no state directory.
import { UnifiedInferenceClient, type InstanceInfo } from '../../src/client';
import { alive, randomPortRanges, tempRoot, waitFor } from './helpers';

// Quick checks, as in tests/server/heal.test.ts: a dead engine is restarted within about a second.
const SUPERVISOR = { intervalMs: 250, failureThreshold: 2, backoffBaseMs: 200, healthTimeoutMs: 1000 };

const root = tempRoot();
let client: UnifiedInferenceClient;
beforeAll(async () => {
  client = await UnifiedInferenceClient.create({ embedded: true, simTimeScale: 0.05, timeout: 20, portRanges: randomPortRanges(), supervisor: SUPERVISOR, stateRoot: root.dir });
});
afterAll(async () => {
  await client?.close();
  root.remove();
});

const llmInstance = async (): Promise<InstanceInfo> => (await client.getInstances()).find((i) => i.type === 'GENERAL')!;
const ask = () => client.chat([{ role: 'system', content: 'Context: The night watchman is Bartholomew.' }, { role: 'user', content: 'Who is the night watchman?' }], { maxTokens: 16 });

it('restarts a kill -9 of the sim-llm engine, and a later chat succeeds on the new process', async () => {
  expect(await ask()).toContain('Bartholomew');
  const before = await llmInstance();
  const killed = before.pid as number;
  expect(alive(killed)).toBe(true);
  process.kill(killed, 'SIGKILL');

  // interval × threshold + first backoff, plus start-up; bounded generously for a loaded machine.
  const budget = SUPERVISOR.intervalMs * SUPERVISOR.failureThreshold + SUPERVISOR.backoffBaseMs + 15_000;
  const after = await waitFor(llmInstance, (i) => i.state === 'RUNNING' && i.pid !== killed && i.health === 'healthy', budget);
  expect(after.state).toBe('RUNNING');
  expect(after.id).toBe(before.id);
  expect(after.port).toBe(before.port);
  expect(after.pid).not.toBe(killed);
  expect(after.restarts).toBeGreaterThanOrEqual(1);
  expect(alive(killed)).toBe(false);
  expect(alive(after.pid as number)).toBe(true);

  const answer = await waitFor(() => ask().catch(() => undefined), (a) => a !== undefined, 10_000);
  expect(answer).toContain('Bartholomew');
  // Served by the restarted process: the killed one is gone and nothing else serves the model.
  expect((await llmInstance()).pid).toBe(after.pid);
});

it('close() leaves no engine process alive and removes the private state directory', async () => {
  const instances = await client.getInstances();
  const pids = instances.map((i) => i.pid as number);
  expect(pids).toHaveLength(2);
  expect(pids.every(alive)).toBe(true);
  expect(root.entries()).toHaveLength(1);
  await client.close();
  expect(pids.filter(alive)).toEqual([]);
  expect(root.entries()).toEqual([]);
  await client.close(); // idempotent
});
