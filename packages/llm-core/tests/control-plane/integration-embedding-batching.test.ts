// F-206 end to end: 100 concurrent one-text embedding requests reach the sim-embedding engine as a few
// batches (its own request counter stays far below 100) and each caller gets its own vector, equal to a
// direct single embedding of its text.
import { ControlPlaneManager } from '../../src/control-plane/manager';
import { InstanceType } from '../../src/control-plane/types';
import type { LaunchedEngine } from '../../src/testing';
import { engineMetric, startEngine, stopAll } from './integration-helpers';

const REQUESTS = 'sage_sim:embedding_request_latency_seconds_count';

describe('embedding batching against a real sim-embedding engine', () => {
  let emb: LaunchedEngine;
  let manager: ControlPlaneManager;
  beforeAll(async () => {
    emb = await startEngine({ kind: 'sim-embedding', model: 'sim-emb', timeScale: 0.2 });
    manager = new ControlPlaneManager({ policy: 'fifo', embedding: { maxWaitMs: 50, batchSize: 32 } });
    manager.registerInstance({ id: 'emb-1', baseUrl: emb.baseUrl, models: ['sim-emb'], type: InstanceType.EMBEDDING, maxConcurrency: 8 });
  });
  afterAll(async () => {
    await manager.close();
    await stopAll();
  });

  it('merges 100 concurrent requests into a few batches and splits the vectors back in order', async () => {
    const before = await engineMetric(emb, REQUESTS);
    const texts = Array.from({ length: 100 }, (_, i) => `document ${i} talks about topic ${(i * 7919) % 97} and item-${i}`);
    const results = await Promise.all(texts.map((t, i) => manager.submit({ id: `emb-${i}`, model: 'sim-emb', input: t })));
    const upstream = (await engineMetric(emb, REQUESTS)) - before;
    expect(upstream).toBeGreaterThanOrEqual(Math.ceil(100 / 32));
    expect(upstream).toBeLessThanOrEqual(12);

    // Every caller's vector equals a direct, unbatched embedding of its own text.
    const direct = await Promise.all(
      texts.map(async (_, i) => {
        const res = await fetch(`${emb.baseUrl}/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'sim-emb', input: texts[i] }) });
        const body = (await res.json()) as { data: Array<{ embedding: number[] }> };
        return [i, body.data[0].embedding] as const;
      }),
    );
    for (const [i, vec] of direct) {
      const data = results[i].body.data as Array<{ embedding: number[]; index: number }>;
      expect(data).toHaveLength(1);
      expect(data[0].index).toBe(0);
      expect(data[0].embedding).toHaveLength(vec.length);
      const maxDiff = Math.max(...vec.map((v, k) => Math.abs(v - data[0].embedding[k])));
      expect(maxDiff).toBeLessThan(1e-9);
    }
    // No two callers got the same vector (different texts, different lexical embeddings).
    const keys = new Set(results.map((r) => JSON.stringify((r.body.data as Array<{ embedding: number[] }>)[0].embedding)));
    expect(keys.size).toBe(100);
    expect(results[5].body.usage).toEqual(expect.objectContaining({ prompt_tokens: expect.any(Number) }));
  });

  it('keeps a multi-text request together and in order', async () => {
    const texts = ['alpha beta', 'gamma delta', 'epsilon zeta'];
    const [batched, single] = await Promise.all([
      manager.submit({ model: 'sim-emb', input: texts }),
      manager.submit({ model: 'sim-emb', input: 'gamma delta' }),
    ]);
    const data = batched.body.data as Array<{ embedding: number[]; index: number }>;
    expect(data.map((d) => d.index)).toEqual([0, 1, 2]);
    expect(data[1].embedding).toEqual((single.body.data as Array<{ embedding: number[] }>)[0].embedding);
  });

  it('fails every caller of a batch when the engine rejects it', async () => {
    const calls = [manager.submit({ model: 'sim-emb', input: 'fine text' }), manager.submit({ model: 'sim-emb', input: 'x'.repeat(20), extraBody: { dimensions: -3 } })];
    const settled = await Promise.allSettled(calls);
    expect(settled[0].status).toBe('fulfilled'); // different options: a different batch
    expect(settled[1].status).toBe('rejected');
    expect((settled[1] as PromiseRejectedResult).reason).toMatchObject({ status: 400 });
  });

  it('rejects at once when no instance serves the model', async () => {
    await expect(manager.submit({ model: 'nope', input: 'x' })).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
  });

  it('sends batches to EMBEDDING instances before LLM_EMBEDDING ones (hybrid policy)', async () => {
    const m = new ControlPlaneManager({ policy: 'hybrid', router: 'round_robin', embedding: { maxWaitMs: 10, batchSize: 4 } });
    // The same engine registered twice, as a dedicated and as a shared instance: only the tier differs.
    m.registerInstance({ id: 'shared', baseUrl: emb.baseUrl, models: ['sim-emb'], type: InstanceType.LLM_EMBEDDING });
    m.registerInstance({ id: 'dedicated', baseUrl: emb.baseUrl, models: ['sim-emb'], type: InstanceType.EMBEDDING });
    try {
      const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => m.submit({ model: 'sim-emb', input: `text ${i}` })));
      expect(new Set(rs.map((r) => r.instanceId))).toEqual(new Set(['dedicated']));
      m.markUnhealthy('dedicated');
      const r = await m.submit({ model: 'sim-emb', input: 'when the dedicated one is down' });
      expect(r.instanceId).toBe('shared');
    } finally {
      await m.close();
    }
  });
});
