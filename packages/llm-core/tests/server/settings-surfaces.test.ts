// What a user reaches through the HTTP server with settings and presets alone (openai SDK as the client):
// prefill/decode separation turned on by the sim-pd preset; engines' price and topology in /health and in
// routing (cost_optimized, topology_aware pairs); readiness and requests that arrive while engines start.
import { Writable } from 'node:stream';
import OpenAI from 'openai';
import pino from 'pino';
import { parsePreset } from '../../src';
import { getJson, startHarness, type Harness, type JsonBody } from './harness';

const LONG_PROMPT = Array.from({ length: 2000 }, (_, i) => `word${i % 97}`).join(' ');

function sdk(h: Harness): OpenAI {
  return new OpenAI({ baseURL: h.baseURL, apiKey: 'unused', maxRetries: 0 });
}

/** An engine's kv_transfer counters from its own /metrics (prefill legs served, decodes from a remote prefill). */
async function kvCounters(h: Harness, engineId: string): Promise<{ prefills: number; decodes: number }> {
  const engine = h.cp.runtime.engines.getEngine(engineId);
  if (!engine) throw new Error(`no engine ${engineId}`);
  const text = await (await fetch(`http://${engine.host}:${engine.port}/metrics`)).text();
  const sum = (leg: string) =>
    text
      .split('\n')
      .filter((l) => !l.startsWith('#') && /kv_transfer/.test(l.split(/[{ ]/)[0]!) && l.split(/[{ ]/)[0]!.includes(leg))
      .reduce((n, l) => n + Number(l.trim().split(/\s+/).at(-1)), 0);
  return { prefills: sum('prefill'), decodes: sum('decode') };
}

async function chat(client: OpenAI, content: string, model = 'sage-sim-llm', maxTokens = 8) {
  const { data, response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content }], max_tokens: maxTokens }).withResponse();
  return { data, instance: response.headers.get('x-sage-instance'), prefill: response.headers.get('x-sage-prefill-instance') };
}

describe('the sim-pd preset turns prefill/decode separation on by itself', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ preset: 'sim-pd' });
  }, 60_000);
  afterAll(async () => h?.stop());

  it('a 2,000-word prompt prefills on the PREFILLING engine and decodes on the DECODING one', async () => {
    const health: JsonBody = await getJson(`${h.cp.url}/health`);
    expect(health.pdSeparation).toBe(true);
    expect(health.instances.map((i: JsonBody) => [i.id, i.type])).toEqual(expect.arrayContaining([['sim-pd-prefill', 'PREFILLING'], ['sim-pd-decode', 'DECODING']]));
    const before = { p: await kvCounters(h, 'sim-pd-prefill'), d: await kvCounters(h, 'sim-pd-decode') };
    const r = await chat(sdk(h), LONG_PROMPT);
    expect(r.data.choices[0]?.message.content).toBeTruthy();
    expect(r.prefill).toBe('sim-pd-prefill');
    expect(r.instance).toBe('sim-pd-decode');
    const after = { p: await kvCounters(h, 'sim-pd-prefill'), d: await kvCounters(h, 'sim-pd-decode') };
    expect(after.p.prefills - before.p.prefills).toBe(1);
    expect(after.d.decodes - before.d.decodes).toBe(1);
    expect(after.p.decodes).toBe(before.p.decodes);
    expect(after.d.prefills).toBe(before.d.prefills);
  });

  it('a short prompt runs whole on one instance', async () => {
    const r = await chat(sdk(h), 'Hello there');
    expect(r.prefill).toBeNull();
    expect(['sim-pd-prefill', 'sim-pd-decode']).toContain(r.instance);
  });

  it('GET /v1/management/settings says where PD separation came from', async () => {
    const s: JsonBody = await getJson(`${h.cp.url}/v1/management/settings`);
    expect(s.settings.pdSeparation).toBe(true);
    expect(s.sources.pdSeparation).toBe('preset');
    expect(s.pdSeparation).toMatchObject({ enabled: true, minInputTokens: 256 });
  });
});

const PRICED = parsePreset(`
version: 1
name: priced
engines:
  - { name: cheap, kind: llm, engine: sim-llm, model: m, cost_per_hour: 1, machine: gpu-a, rack: r1, nvlink_group: g-a, max_concurrent_requests: 8 }
  - { name: dear, kind: llm, engine: sim-llm, model: m, cost_per_hour: 5, machine: gpu-b, rack: r1, nvlink_group: g-b, api_key: sk-never-shown }
`);

describe('price and topology declared in a preset', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ preset: PRICED, policy: 'cost_optimized' });
  }, 60_000);
  afterAll(async () => h?.stop());

  it('/health shows them, never the API key', async () => {
    const res = await fetch(`${h.cp.url}/health`);
    const text = await res.text();
    expect(text).not.toContain('sk-never-shown');
    const health = JSON.parse(text) as JsonBody;
    const byId = Object.fromEntries(health.instances.map((i: JsonBody) => [i.id, i]));
    expect(byId['priced-cheap']).toMatchObject({ costPerHour: 1, machine: 'gpu-a', rack: 'r1', nvlinkGroup: 'g-a', maxConcurrency: 8 });
    expect(byId['priced-dear']).toMatchObject({ costPerHour: 5, machine: 'gpu-b', nvlinkGroup: 'g-b' });
    expect(byId['priced-dear'].apiKey).toBeUndefined();
    const mgmt = await (await fetch(`${h.cp.url}/v1/management/backends`)).text();
    expect(mgmt).not.toContain('sk-never-shown');
  });

  it('cost_optimized sends most of an idle-time workload to the cheaper engine', async () => {
    const client = sdk(h);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 12; i++) {
      const r = await chat(client, `question ${i}`, 'm', 4);
      counts[r.instance ?? '?'] = (counts[r.instance ?? '?'] ?? 0) + 1;
    }
    expect(counts['priced-cheap'] ?? 0).toBeGreaterThan(6);
  });
});

const TWO_RACKS = parsePreset(`
version: 1
name: racks
control_plane: { pd_separation: true, router: topology_aware, scheduling_policy: fifo }
engines:
  - { name: p-a, kind: llm, engine: sim-llm, model: m, instance_type: PREFILLING, machine: gpu-a, nvlink_group: g-a }
  - { name: d-a, kind: llm, engine: sim-llm, model: m, instance_type: DECODING, machine: gpu-a, nvlink_group: g-a }
  - { name: p-b, kind: llm, engine: sim-llm, model: m, instance_type: PREFILLING, machine: gpu-b, nvlink_group: g-b }
  - { name: d-b, kind: llm, engine: sim-llm, model: m, instance_type: DECODING, machine: gpu-b, nvlink_group: g-b }
`);

describe('topology_aware with PD separation (both from the preset)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ preset: TWO_RACKS });
  }, 90_000);
  afterAll(async () => h?.stop());

  it('keeps each prefill/decode pair inside one NVLink group', async () => {
    const health: JsonBody = await getJson(`${h.cp.url}/health`);
    expect(health).toMatchObject({ router: 'topology_aware', policy: 'fifo', pdSeparation: true });
    const group = (id: string | null) => health.instances.find((i: JsonBody) => i.id === id)?.nvlinkGroup;
    const client = sdk(h);
    const pairs: Array<[string | null, string | null]> = [];
    for (let wave = 0; wave < 3; wave++) {
      const rs = await Promise.all(Array.from({ length: 4 }, (_, i) => chat(client, `${wave}-${i} ${LONG_PROMPT}`, 'm', 4)));
      pairs.push(...rs.map((r): [string | null, string | null] => [r.prefill, r.instance]));
    }
    expect(pairs).toHaveLength(12);
    for (const [prefill, decode] of pairs) {
      expect(prefill).toMatch(/^racks-p-/);
      expect(decode).toMatch(/^racks-d-/);
      expect(group(prefill)).toBe(group(decode));
    }
    // Both groups served: the pairing, not a single busy pair, kept them apart.
    expect(new Set(pairs.map(([p]) => group(p))).size).toBe(2);
  });
});

describe('readiness while the preset starts (engines start after the server listens)', () => {
  const started: Harness[] = [];
  afterAll(async () => {
    await Promise.all(started.map((h) => h.stop()));
  });

  it('/health/ready is 503 until every engine runs; a chat sent meanwhile waits and returns 200, not 404', async () => {
    const h = await startHarness({ preset: 'default', deferPreset: true });
    started.push(h);
    const early = await fetch(`${h.cp.url}/health/ready`);
    const earlyBody = (await early.json()) as JsonBody;
    expect(early.status).toBe(503);
    expect(earlyBody.ready).toBe(false);
    expect(earlyBody.waitingFor.length).toBeGreaterThan(0);
    expect(((await getJson(`${h.cp.url}/health`)) as JsonBody).ready).toBe(false);

    const client = sdk(h);
    const [chatDuringStart, embedDuringStart] = await Promise.all([
      chat(client, 'Hello during start-up'),
      client.embeddings.create({ model: 'sage-sim-embedding', input: ['during start-up'] }),
    ]);
    expect(chatDuringStart.data.choices[0]?.message.content).toBeTruthy();
    expect(embedDuringStart.data[0]?.embedding.length).toBeGreaterThan(0);
    // A model no engine of the preset serves is still unknown at once.
    await expect(client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 404 });

    // As a readiness probe would: poll /health/ready, and the moment it turns 200 everything is served.
    let ready = await fetch(`${h.cp.url}/health/ready`);
    for (const until = Date.now() + 30_000; ready.status !== 200 && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 20));
      ready = await fetch(`${h.cp.url}/health/ready`);
    }
    expect(ready.status).toBe(200);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id).sort()).toEqual(['sage-sim-embedding', 'sage-sim-llm']);
    expect((await chat(client, 'Hello once ready')).data.choices[0]?.message.content).toBeTruthy();
  }, 60_000);

  it('a request that outwaits its timeout while its engine starts gets 503 engine_starting with Retry-After', async () => {
    const h = await startHarness({ preset: 'default', deferPreset: true, settings: { requestTimeoutMs: 1 } });
    started.push(h);
    const res = await fetch(`${h.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sage-sim-llm', messages: [{ role: 'user', content: 'hi' }] }),
    });
    const body = (await res.json()) as JsonBody;
    expect(res.status).toBe(503);
    expect(body.error).toMatchObject({ code: 'engine_starting', type: 'service_unavailable' });
    expect(res.headers.get('retry-after')).toBe('5');
    await h.cp.ready;
  }, 60_000);
});

describe('a preset engine without engine: on a machine with no GPU and no engine executables', () => {
  let h: Harness;
  const lines: Array<{ msg: string; chosen?: string }> = [];
  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as { msg: string; chosen?: string });
        done();
      },
    });
    const bare = parsePreset('version: 1\nname: bare\nengines: [{ name: chat, kind: llm, model: bare-model }]\n');
    h = await startHarness({ preset: bare, logger: pino({ level: 'info' }, sink) });
  }, 60_000);
  afterAll(async () => h?.stop());

  it('runs on the simulator, and the log says why', async () => {
    expect(h.cp.runtime.engines.getEngine('bare-chat')?.kind).toBe('sim-llm');
    expect(lines).toContainEqual(expect.objectContaining({ chosen: 'sim-llm', msg: expect.stringMatching(/engine chat names no engine: .*no GPU.*sim-llm/) }));
    expect((await chat(sdk(h), 'hello', 'bare-model')).data.choices[0]?.message.content).toBeTruthy();
  });
});
