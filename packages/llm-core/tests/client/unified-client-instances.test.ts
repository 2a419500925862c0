// UnifiedInferenceClient.create({ instances, schedulingPolicy, router, pdSeparation, … }): the seeds'
// multi-instance scenario in-process — engines it starts are supervised and die with it; servers started
// elsewhere are registered with their price and topology; PD separation runs across the declared pair.
import { launchSimEngine, type LaunchedEngine } from '../../src/testing';
import { UnifiedInferenceClient } from '../../src';
import { randomPortRanges, running, tempRoot, waitFor } from './helpers';

const LONG_PROMPT = Array.from({ length: 600 }, (_, i) => `token${i % 53}`).join(' ');

async function kvPrefills(baseUrl: string): Promise<number> {
  const text = await (await fetch(`${new URL(baseUrl).origin}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => !l.startsWith('#') && /kv_transfer.*prefill/.test(l.split(/[{ ]/)[0]!))
    .reduce((n, l) => n + Number(l.trim().split(/\s+/).at(-1)), 0);
}

describe('create({ instances, … })', () => {
  let external: LaunchedEngine;
  const root = tempRoot();
  beforeAll(async () => {
    external = await launchSimEngine({ kind: 'sim-llm', model: 'far-model', timeScale: 0.05 });
  });
  afterAll(async () => {
    await external?.stop();
    root.remove();
  });

  it('starts the declared engines, registers the declared server, and separates prefill from decode', async () => {
    const client = await UnifiedInferenceClient.create({
      instances: [
        { engine: 'sim-llm', model: 'pd-model', instanceType: 'PREFILLING', machine: 'gpu-a', nvlinkGroup: 'g0', costPerHour: 2 },
        // The seeds' spelling: snake_case keys and short type names.
        { engine: 'sim-llm', model_name: 'pd-model', instance_type: 'DECODE', machine: 'gpu-a', nvlink_group: 'g0' } as never,
        { engine: 'sim-embedding', model: 'emb-model' },
        { url: external.baseUrl, models: ['far-model'], costPerHour: 9.5, rack: 'r7', apiKey: 'sk-hidden' },
      ],
      schedulingPolicy: 'slo_aware',
      router: 'topology_aware',
      pdSeparation: true,
      pdMinInputTokens: 64,
      simTimeScale: 0.05,
      portRanges: randomPortRanges(),
      stateRoot: root.dir,
      env: {},
    });
    let pids: number[] = [];
    try {
      const instances = await client.getInstances();
      const byModel = (m: string) => instances.filter((i) => i.models.includes(m));
      expect(byModel('pd-model').map((i) => i.type).sort()).toEqual(['DECODING', 'PREFILLING']);
      expect(byModel('pd-model').find((i) => i.type === 'PREFILLING')).toMatchObject({ costPerHour: 2, topology: { machineId: 'gpu-a', nvlinkGroup: 'g0' } });
      expect(byModel('far-model')[0]).toMatchObject({ costPerHour: 9.5, topology: { rackId: 'r7' } });
      expect(JSON.stringify(instances)).not.toContain('sk-hidden');
      const metrics = await client.getMetrics();
      expect(metrics.policy).toBe('slo_aware');

      const prefill = byModel('pd-model').find((i) => i.type === 'PREFILLING')!;
      const before = await kvPrefills(prefill.baseUrl as string);
      expect(await client.chat([{ role: 'user', content: LONG_PROMPT }], { model: 'pd-model', maxTokens: 4 })).toBeTruthy();
      expect(await kvPrefills(prefill.baseUrl as string)).toBe(before + 1);
      expect(await client.chat([{ role: 'user', content: 'hi' }], { model: 'far-model', maxTokens: 4 })).toBeTruthy();
      expect((await client.embed(['a cat']))[0]!.length).toBeGreaterThan(0);
      pids = instances.flatMap((i) => (typeof i.pid === 'number' ? [i.pid] : []));
      expect(pids).toHaveLength(3);
    } finally {
      await client.close();
    }
    // The engines it started die with it; the server it only registered keeps running.
    expect(await waitFor(() => pids.filter(running), (left) => left.length === 0, 10_000)).toEqual([]);
    expect((await fetch(`${new URL(external.baseUrl).origin}/health`)).ok).toBe(true);
  }, 90_000);

  it('bad declarations and settings are refused before anything starts', async () => {
    await expect(UnifiedInferenceClient.create({ instances: [{ engine: 'sim-llm' }], stateRoot: root.dir })).rejects.toThrow(/instances\[0\]: model: required/);
    await expect(UnifiedInferenceClient.create({ instances: [{ model: 'm', instanceType: 'SIDEWAYS' as never }], stateRoot: root.dir })).rejects.toThrow(/instanceType: expected one of/);
    await expect(UnifiedInferenceClient.create({ embedded: true, maxQueueSize: 0, stateRoot: root.dir })).rejects.toThrow(/maxQueueSize: must be at least 1/);
    await expect(UnifiedInferenceClient.create({ controlPlaneUrl: 'http://127.0.0.1:1', instances: [] })).rejects.toThrow(/either controlPlaneUrl or instances/);
    expect(root.entries()).toEqual([]);
  });
});
