// The management API on a running control plane (issue 7, F-303): starting engines with and without GPUs
// (mock mode, 2 GPUs), memory conflicts, presets with rollback, listing and stopping.
import { readFileSync } from 'node:fs';
import { startHarness, alive, getJson, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ runtime: { gpuEnv: { SAGE_GPU_MOCK_COUNT: '2', SAGE_GPU_MOCK_MEMORY_GB: '24' } } });
});
afterAll(async () => {
  await h?.stop();
});

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${h.cp.url}/v1/management${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
};

function envOf(pid: number): Record<string, string> {
  const raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
  return Object.fromEntries(raw.split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

describe('engines', () => {
  it('starts an embedding engine without a GPU by default', async () => {
    const r = await api('POST', '/engines', { model: 'BAAI/bge-m3', kind: 'embedding', engine: 'sim-embedding' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ state: 'RUNNING', model: 'BAAI/bge-m3', useGpu: false, gpuIds: [] });
    expect(envOf(r.body.pid).CUDA_VISIBLE_DEVICES ?? '').toBe('');
    // It serves through the control plane at once.
    const emb = await fetch(`${h.cp.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'BAAI/bge-m3', input: 'hello' }) });
    expect(emb.status).toBe(200);
  });

  it('gives a GPU to an engine started with useGpu: true (CUDA_VISIBLE_DEVICES in its environment)', async () => {
    const r = await api('POST', '/engines', { model: 'BAAI/bge-m3', kind: 'embedding', engine: 'sim-embedding', useGpu: true, label: 'gpu-embed' });
    expect(r.status).toBe(201);
    expect(r.body.useGpu).toBe(true);
    expect(r.body.gpuIds).toHaveLength(1);
    expect(envOf(r.body.pid).CUDA_VISIBLE_DEVICES).toBe(String(r.body.gpuIds[0]));
    const gpu = await api('GET', '/gpu');
    expect(gpu.body.gpus).toHaveLength(2);
    expect(gpu.body.allocations.map((a: { engineId: string }) => a.engineId)).toContain(r.body.id);
  });

  it('refuses with 409 and a reason an engine that needs more GPU memory than is left', async () => {
    const second = await api('POST', '/engines', { model: 'sim-big', kind: 'llm', engine: 'sim-llm', useGpu: true, requiredMemoryGb: 20 });
    expect(second.status).toBe(201);
    // Whatever is left on the emptiest GPU, plus one: cannot fit anywhere.
    const gpus = (await api('GET', '/gpu')).body.gpus as Array<{ memoryTotalGb: number; reservedGb: number }>;
    const left = Math.max(...gpus.map((g) => g.memoryTotalGb - g.reservedGb));
    const third = await api('POST', '/engines', { model: 'sim-bigger', kind: 'llm', engine: 'sim-llm', useGpu: true, requiredMemoryGb: Math.ceil(left) + 1 });
    expect(third.status).toBe(409);
    expect(third.body.error.message).toMatch(/memory|GB/i);
    expect(third.body.error.code).toBeTruthy();
  });

  it('answers 409 for a port already taken and 404 for an unknown engine, 400 for a bad body', async () => {
    const engines = (await api('GET', '/engines')).body.engines as Array<{ port: number }>;
    const taken = await api('POST', '/engines', { model: 'x', kind: 'llm', engine: 'sim-llm', port: engines[0]!.port });
    expect(taken.status).toBe(409);
    expect((await api('DELETE', '/engines/no-such-engine')).status).toBe(404);
    const bad = await api('POST', '/engines', { model: 'x', kind: 'banana' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('kind');
  });

  it('lists, stops with drain, and prunes', async () => {
    const list = await api('GET', '/engines');
    const gpuEngine = list.body.engines.find((e: { label?: string }) => e.label === 'gpu-embed');
    const stopped = await api('DELETE', `/engines/${gpuEngine.id}?drain=true`);
    expect(stopped.status).toBe(200);
    expect(stopped.body.state).toBe('STOPPED');
    expect(alive(gpuEngine.pid)).toBe(false);
    const gpu = await api('GET', '/gpu');
    expect(gpu.body.allocations.map((a: { engineId: string }) => a.engineId)).not.toContain(gpuEngine.id);
    const pruned = await api('POST', '/engines/prune');
    expect(pruned.body.pruned).toContain(gpuEngine.id);
    const status = await api('GET', '/status');
    expect(status.body.ports.map((p: { owner: string }) => p.owner)).not.toContain(gpuEngine.id);
  });
});

describe('presets', () => {
  const yaml = (engines: string) => `version: 1\nname: t\ndescription: test\nengines:\n${engines}`;

  it('applies a preset with two engines', async () => {
    const r = await api('POST', '/presets/apply', {
      yaml: yaml(`  - { name: a, kind: llm, engine: sim-llm, model: preset-llm }\n  - { name: b, kind: embedding, engine: sim-embedding, model: preset-emb }\n`),
    });
    expect(r.status).toBe(201);
    expect(r.body.ok).toBe(true);
    expect(r.body.started.map((s: { name: string }) => s.name)).toEqual(['a', 'b']);
    const models = (await getJson(`${h.cp.url}/v1/models`)).data.map((m: { id: string }) => m.id);
    expect(models).toEqual(expect.arrayContaining(['preset-llm', 'preset-emb']));
  });

  it('names the bad field of a preset with an unknown kind', async () => {
    const r = await api('POST', '/presets/apply', { yaml: yaml(`  - { name: a, kind: llm, engine: sim-llm, model: m }\n  - { name: b, kind: quantum, model: m }\n`) });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain('engines[1].kind');
  });

  it('rolls the first engine back when the second fails to start', async () => {
    const r = await api('POST', '/presets/apply', {
      yaml: yaml(`  - { name: first, kind: llm, engine: sim-llm, model: rb-llm }\n  - { name: second, kind: llm, engine: sim-llm, model: rb-bad, extra_args: ["--no-such-flag"] }\n`).replace('name: t', 'name: rb'),
    });
    expect(r.status).toBe(502);
    expect(r.body.ok).toBe(false);
    expect(r.body.failed.name).toBe('second');
    expect(r.body.rolledBack).toEqual(['first']);
    const engines = (await api('GET', '/engines')).body.engines as Array<{ id: string; state: string; pid?: number }>;
    const first = engines.find((e) => e.id === 'rb-first');
    expect(first === undefined || first.state === 'STOPPED').toBe(true);
    const models = (await getJson(`${h.cp.url}/v1/models`)).data.map((m: { id: string }) => m.id);
    expect(models).not.toContain('rb-llm');
  });

  it('plans without starting anything on dryRun', async () => {
    const before = (await api('GET', '/engines')).body.engines.length;
    const r = await api('POST', '/presets/apply', { name: 'sim-pd', dryRun: true });
    expect(r.status).toBe(200);
    expect(r.body.plan.engines).toHaveLength(3);
    expect((await api('GET', '/engines')).body.engines.length).toBe(before);
  });
});
