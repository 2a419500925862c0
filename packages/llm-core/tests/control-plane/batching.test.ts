// EmbeddingBatcher on its own (F-206): merging by model and options within the wait window, bounds on
// texts and tokens, results split back in order, a failed batch failing each caller, cancellation.
import { EmbeddingBatcher, type EmbeddingBatch } from '../../src/control-plane/batching';
import { RequestCancelledError } from '../../src/control-plane/manager';

/** A dispatcher that "embeds" text i as [length, batch position] so splitting can be checked. */
function recording() {
  const batches: EmbeddingBatch[] = [];
  const dispatch = async (b: EmbeddingBatch) => {
    batches.push(b);
    return { model: b.model, embeddings: b.texts.map((t, i) => [t.length, i]) };
  };
  return { batches, dispatch };
}

describe('EmbeddingBatcher', () => {
  it('merges concurrent requests of one model into one batch and splits results in order', async () => {
    const { batches, dispatch } = recording();
    const b = new EmbeddingBatcher(dispatch, { maxWaitMs: 20, batchSize: 32 });
    const [r1, r2, r3] = await Promise.all([
      b.add({ requestId: '1', model: 'm', texts: ['a', 'bb'] }),
      b.add({ requestId: '2', model: 'm', texts: ['ccc'] }),
      b.add({ requestId: '3', model: 'm', texts: ['dddd', 'eeeee'] }),
    ]);
    expect(batches).toHaveLength(1);
    expect(batches[0].texts).toEqual(['a', 'bb', 'ccc', 'dddd', 'eeeee']);
    expect(r1.embeddings).toEqual([[1, 0], [2, 1]]);
    expect(r2.embeddings).toEqual([[3, 2]]);
    expect(r3.embeddings).toEqual([[4, 3], [5, 4]]);
    expect(r3.batchSize).toBe(5);
  });

  it('keeps models and output options apart', async () => {
    const { batches, dispatch } = recording();
    const b = new EmbeddingBatcher(dispatch, { maxWaitMs: 10 });
    await Promise.all([
      b.add({ requestId: '1', model: 'm1', texts: ['x'] }),
      b.add({ requestId: '2', model: 'm2', texts: ['x'] }),
      b.add({ requestId: '3', model: 'm1', texts: ['x'], dimensions: 64 }),
      b.add({ requestId: '4', model: 'm1', texts: ['y'] }),
    ]);
    expect(batches.map((x) => x.members.map((m) => m.requestId))).toEqual(expect.arrayContaining([['1', '4'], ['2'], ['3']]));
    expect(batches).toHaveLength(3);
  });

  it('flushes at batchSize texts without waiting and never splits a request', async () => {
    const { batches, dispatch } = recording();
    const b = new EmbeddingBatcher(dispatch, { maxWaitMs: 10_000, batchSize: 4 });
    const t0 = Date.now();
    await Promise.all([
      b.add({ requestId: '1', model: 'm', texts: ['a', 'b', 'c'] }),
      b.add({ requestId: '2', model: 'm', texts: ['d'] }),
      b.add({ requestId: '3', model: 'm', texts: ['e', 'f', 'g', 'h', 'i'] }),
    ]);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(batches.map((x) => x.texts.length)).toEqual([4, 5]);
  });

  it('respects the token budget', async () => {
    const { batches, dispatch } = recording();
    const b = new EmbeddingBatcher(dispatch, { maxWaitMs: 10, batchSize: 100, maxBatchTokens: 12 });
    const text = 'one two three four five six seven eight'; // ~8 tokens
    await Promise.all([1, 2, 3].map((i) => b.add({ requestId: String(i), model: 'm', texts: [text] })));
    expect(batches).toHaveLength(3);
  });

  it('fails every caller of a failed batch with that error', async () => {
    const boom = new Error('engine exploded');
    const b = new EmbeddingBatcher(async () => Promise.reject(boom), { maxWaitMs: 5 });
    const settled = await Promise.allSettled([b.add({ requestId: '1', model: 'm', texts: ['a'] }), b.add({ requestId: '2', model: 'm', texts: ['b'] })]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    for (const s of settled) expect((s as PromiseRejectedResult).reason).toBe(boom);
  });

  it('drops a cancelled caller from an unsent batch', async () => {
    const { batches, dispatch } = recording();
    const b = new EmbeddingBatcher(dispatch, { maxWaitMs: 30 });
    const ac = new AbortController();
    const gone = b.add({ requestId: '1', model: 'm', texts: ['a'], signal: ac.signal });
    const stays = b.add({ requestId: '2', model: 'm', texts: ['b'] });
    ac.abort();
    await expect(gone).rejects.toBeInstanceOf(RequestCancelledError);
    expect((await stays).embeddings).toEqual([[1, 0]]);
    expect(batches[0].texts).toEqual(['b']);
  });
});
