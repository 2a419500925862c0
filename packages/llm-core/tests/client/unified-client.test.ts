// F-216: UnifiedInferenceClient.create() is the only entry. Embedded mode runs an in-process control plane
// (the server's runtime) over real sim engines (child processes) and close() leaves none behind; remote mode
// speaks OpenAI HTTP.
import { UnifiedInferenceClient } from '../../src/client';
import { launchSimEngine, type LaunchedEngine } from '../../src/testing';
import { alive, childPids, inRanges, randomPortRanges, tempRoot } from './helpers';

describe('UnifiedInferenceClient construction', () => {
  it('has no createAuto, createWithControlPlane or public constructor', () => {
    // @ts-expect-error createAuto does not exist (seed 004 replaced it with create())
    expect(UnifiedInferenceClient.createAuto).toBeUndefined();
    // @ts-expect-error createWithControlPlane does not exist
    expect(UnifiedInferenceClient.createWithControlPlane).toBeUndefined();
    // @ts-expect-error the constructor is private
    expect(() => new UnifiedInferenceClient()).toThrow(/UnifiedInferenceClient\.create/);
    // From JavaScript, even with arguments that look right, the run-time guard refuses.
    const Ctor = UnifiedInferenceClient as unknown as new (...args: unknown[]) => unknown;
    expect(() => new Ctor(Symbol('UnifiedInferenceClient.create'), {})).toThrow(TypeError);
  });

  it('rejects an unknown scheduling policy before starting any engine, leaving no state directory', async () => {
    const root = tempRoot();
    try {
      const before = childPids();
      // A JavaScript caller (no type check) with a typo: the settings model names the option and the valid values.
      const schedulingPolicy = 'hybird' as 'hybrid';
      await expect(UnifiedInferenceClient.create({ embedded: true, schedulingPolicy, stateRoot: root.dir })).rejects.toThrow(/schedulingPolicy: expected one of .*hybrid.*got "hybird"/);
      expect(childPids().filter((p) => !before.includes(p))).toEqual([]);
      expect(root.entries()).toEqual([]);
    } finally {
      root.remove();
    }
  });

  it('refuses both controlPlaneUrl and embedded', async () => {
    await expect(UnifiedInferenceClient.create({ embedded: true, controlPlaneUrl: 'http://127.0.0.1:1' })).rejects.toThrow(/either/);
  });

  it('with neither option, detects a local control plane or falls back to embedded', async () => {
    const probe = await fetch('http://127.0.0.1:8000/health', { signal: AbortSignal.timeout(1000) })
      .then(async (r) => ((await r.json()) as { service?: string }).service === 'sage-control-plane')
      .catch(() => false);
    const c = await UnifiedInferenceClient.create({ env: {}, simTimeScale: 0.05, portRanges: randomPortRanges() });
    try {
      expect(c.mode).toBe(probe ? 'remote' : 'embedded');
      if (!probe) expect(await c.embed('fallback works')).toHaveLength(1);
    } finally {
      await c.close();
    }
  });

  it('takes SAGE_UNIFIED_BASE_URL as a remote control plane without probing', async () => {
    const c = await UnifiedInferenceClient.create({ env: { SAGE_UNIFIED_BASE_URL: 'http://127.0.0.1:9/v1' } });
    expect(c.mode).toBe('remote');
    await c.close();
  });
});

describe('UnifiedInferenceClient.create({ embedded: true })', () => {
  const ranges = randomPortRanges();
  const root = tempRoot();
  let client: UnifiedInferenceClient;
  let pids: number[] = [];
  beforeAll(async () => {
    client = await UnifiedInferenceClient.create({ embedded: true, schedulingPolicy: 'priority', simTimeScale: 0.05, timeout: 20, portRanges: ranges, stateRoot: root.dir });
    pids = (await client.getInstances()).map((i) => i.pid as number);
  });
  afterAll(async () => {
    await client.close();
    root.remove();
  });

  it('answers chat, generate and stream through the control plane', async () => {
    expect(client.mode).toBe('embedded');
    expect(pids).toHaveLength(2);
    const answer = await client.chat(
      [
        { role: 'system', content: 'Answer from this context. Context: The lighthouse keeper is named Ottoline.' },
        { role: 'user', content: 'Who is the lighthouse keeper?' },
      ],
      { maxTokens: 24, priority: 'HIGH' },
    );
    expect(answer).toContain('Ottoline');
    const text = await client.generate('Once upon a time', { maxTokens: 8 });
    expect(text.length).toBeGreaterThan(0);
    let streamed = '';
    for await (const delta of client.stream([{ role: 'system', content: 'Context: The ferry leaves at dawn.' }, { role: 'user', content: 'When does the ferry leave?' }], { maxTokens: 16 })) streamed += delta;
    expect(streamed).toContain('dawn');
  });

  it('answers embed with one normalised vector per text, in order', async () => {
    const vecs = await client.embed(['red apples', 'blue ocean waves', 'red apples']);
    expect(vecs).toHaveLength(3);
    expect(vecs[0]).toEqual(vecs[2]);
    expect(vecs[0]).not.toEqual(vecs[1]);
    const norm = Math.sqrt(vecs[1].reduce((s, x) => s + x * x, 0));
    expect(norm).toBeCloseTo(1, 5);
  });

  it('reports metrics and instances of the embedded control plane', async () => {
    const instances = await client.getInstances();
    expect(instances.map((i) => i.type).sort()).toEqual(['EMBEDDING', 'GENERAL']);
    expect(instances.every((i) => i.apiKey === undefined)).toBe(true);
    expect(instances.every((i) => i.state === 'RUNNING')).toBe(true);
    const m = (await client.getMetrics()) as { policy: string; requests: { completed: number } };
    expect(m.policy).toBe('priority');
    expect(m.requests.completed).toBeGreaterThanOrEqual(4);
  });

  it("takes every engine port from its PortAllocator's ranges and keeps its state in a private directory", async () => {
    const ports = (await client.getInstances()).map((i) => i.port as number);
    expect(ports).toHaveLength(2);
    for (const p of ports) expect(inRanges(p, ranges)).toBe(true);
    expect(root.entries()).toHaveLength(1);
    expect(root.entries()[0]).toMatch(/^sage-embedded-/);
  });

  it('close() stops every engine it started and removes its state directory', async () => {
    expect(pids.every(alive)).toBe(true);
    await Promise.all([client.close(), client.close()]);
    expect(pids.filter(alive)).toEqual([]);
    expect(root.entries()).toEqual([]);
    await client.close();
    await expect(client.chat([{ role: 'user', content: 'hi' }])).rejects.toThrow(/closed/);
  });
});

describe('UnifiedInferenceClient with controlPlaneUrl', () => {
  let engine: LaunchedEngine;
  beforeAll(async () => {
    // Any OpenAI-compatible HTTP API exercises the remote transport (the sage server has the same API).
    engine = await launchSimEngine({ kind: 'sim-llm', model: 'remote-llm', timeScale: 0.05 });
  });
  afterAll(() => engine.stop());

  it('talks OpenAI HTTP through the official SDK', async () => {
    const c = await UnifiedInferenceClient.create({ controlPlaneUrl: `http://${engine.host}:${engine.port}`, defaultLlmModel: 'remote-llm', timeout: 10 });
    try {
      expect(c.mode).toBe('remote');
      const a = await c.chat([{ role: 'system', content: 'Context: The code word is PELICAN.' }, { role: 'user', content: 'What is the code word?' }], { maxTokens: 16 });
      expect(a).toContain('PELICAN');
      let s = '';
      for await (const d of c.stream([{ role: 'user', content: 'Count.' }], { maxTokens: 5 })) s += d;
      expect(s.length).toBeGreaterThan(0);
    } finally {
      await c.close();
    }
  });
});
