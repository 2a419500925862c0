// The management API takes the same per-engine attributes and settings as every other surface: price and
// topology on POST /engines and /engines/register, a preset's control_plane: section on /presets/apply, the
// machine's default engine when none is named, and GET /settings.
import { launchSimEngine, type LaunchedEngine } from '../../src/testing';
import { getJson, startHarness, type Harness, type JsonBody } from './harness';

async function post(url: string, body: unknown): Promise<{ status: number; body: JsonBody }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

describe('management API with engine attributes and settings', () => {
  let h: Harness;
  let external: LaunchedEngine;
  beforeAll(async () => {
    h = await startHarness({ preset: false });
    external = await launchSimEngine({ kind: 'sim-llm', model: 'ext-model', timeScale: 0.05 });
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
    await external?.stop();
  });

  const instance = async (id: string): Promise<JsonBody> => ((await getJson(`${h.cp.url}/health`)) as JsonBody).instances.find((i: JsonBody) => i.id === id);

  it('POST /engines without "engine" starts the default for this machine (no GPU, no vllm: the simulator), with its price and topology', async () => {
    const r = await post(`${h.cp.url}/v1/management/engines`, { model: 'own-model', kind: 'llm', cost_per_hour: 0.5, machine: 'gpu-z', nvlink_group: 'g9', time_scale: 0.05 });
    expect(r.status).toBe(201);
    expect(r.body.kind).toBe('sim-llm');
    expect(await instance(r.body.id)).toMatchObject({ costPerHour: 0.5, machine: 'gpu-z', nvlinkGroup: 'g9' });
  }, 30_000);

  it('POST /engines/register takes price, topology and a key it never shows', async () => {
    const r = await post(`${h.cp.url}/v1/management/engines/register`, { base_url: external.baseUrl, id: 'ext', cost_per_hour: 3, machine: 'm9', rack: 'r2', nvlink_group: 'g2', api_key: 'sk-registered' });
    expect(r.status).toBe(201);
    expect(JSON.stringify(r.body)).not.toContain('sk-registered');
    expect(await instance('ext')).toMatchObject({ models: ['ext-model'], costPerHour: 3, machine: 'm9', rack: 'r2', nvlinkGroup: 'g2' });
    const bad = await post(`${h.cp.url}/v1/management/engines/register`, { base_url: 'http://127.0.0.1:1/v1', cost_per_hour: -2 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('costPerHour');
  });

  it("a preset applied while serving turns PD separation on and reports the settings fixed at start", async () => {
    const before = await getJson(`${h.cp.url}/v1/management/settings`);
    expect(before.pdSeparation.enabled).toBe(false);
    const r = await post(`${h.cp.url}/v1/management/presets/apply`, {
      preset: {
        version: 1,
        name: 'pdlive',
        control_plane: { pd_separation: true, pd_min_input_tokens: 100, scheduling_policy: 'fifo' },
        engines: [
          { name: 'p', kind: 'llm', engine: 'sim-llm', model: 'pd-live', instance_type: 'PREFILLING' },
          { name: 'd', kind: 'llm', engine: 'sim-llm', model: 'pd-live', instance_type: 'DECODING' },
        ],
      },
    });
    expect(r.status).toBe(201);
    expect(r.body.controlPlane.applied.sort()).toEqual(['pdMinInputTokens', 'pdSeparation']);
    expect(r.body.controlPlane.notApplied).toEqual([expect.objectContaining({ key: 'schedulingPolicy', value: 'fifo', running: 'adaptive' })]);
    const after = await getJson(`${h.cp.url}/v1/management/settings`);
    expect(after.pdSeparation).toMatchObject({ enabled: true, minInputTokens: 100 });
    const prompt = Array.from({ length: 300 }, (_, i) => `w${i}`).join(' ');
    const res = await fetch(`${h.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'pd-live', messages: [{ role: 'user', content: prompt }], max_tokens: 4 }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-sage-prefill-instance')).toBe('pdlive-p');
    expect(res.headers.get('x-sage-instance')).toBe('pdlive-d');
  }, 30_000);
});
