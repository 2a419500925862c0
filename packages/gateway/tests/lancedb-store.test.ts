import type { StoredChunk } from '../src';
import { removeTemps } from './helpers';
import { openStore, storeDir, storedChunk, withStore } from './store-fixture';

afterAll(removeTemps);

const chunk = (documentId: string, position: number, vector: number[], text = `${documentId} part ${position}`): StoredChunk =>
  storedChunk(documentId, position, text, vector, { headingPath: ['Top', `S${position}`], ingestedAt: 1000 + position });

describe('LanceDBVectorStore', () => {
  test('an empty store answers every read', async () => {
    const store = await openStore();
    expect(await store.count()).toBe(0);
    expect(await store.search([1, 0, 0], 3)).toEqual([]);
    expect(await store.listDocuments()).toEqual([]);
    expect(await store.deleteDocument('nothing')).toBe(0);
    await store.close();
  });

  test('upsert, search by cosine similarity, list, delete with exceptions, and persistence', async () => {
    const dir = storeDir();
    const store = await openStore(dir);
    await store.upsert([chunk("it's", 0, [1, 0, 0]), chunk("it's", 1, [0.9, 0.1, 0]), chunk('b', 0, [0, 1, 0]), chunk('c', 0, [0, 0, 1])]);
    expect(await store.count()).toBe(4);

    const hits = await store.search([1, 0, 0], 2);
    expect(hits.map((h) => h.chunk.id)).toEqual(["it's#0", "it's#1"]);
    expect(hits[0]?.score).toBeCloseTo(1, 5);
    expect(hits[1]?.score).toBeLessThan(hits[0]?.score as number);
    expect(hits[0]?.chunk).toMatchObject({ documentId: "it's", source: "/docs/it's.md", position: 0, headingPath: ['Top', 'S0'], documentHash: "h-it's" });

    // Same id replaces; a new id adds.
    await store.upsert([chunk('b', 0, [0, 1, 0], 'b rewritten'), chunk('b', 1, [0, 0.5, 0.5])]);
    expect(await store.count()).toBe(5);
    expect((await store.documentChunks('b')).map((c) => c.text)).toEqual(['b rewritten', 'b part 1']);

    expect(await store.listDocuments()).toEqual([
      { id: 'b', source: '/docs/b.md', documentHash: 'h-b', chunks: 2, ingestedAt: 1001 },
      { id: 'c', source: '/docs/c.md', documentHash: 'h-c', chunks: 1, ingestedAt: 1000 },
      { id: "it's", source: "/docs/it's.md", documentHash: "h-it's", chunks: 2, ingestedAt: 1001 },
    ]);

    expect(await store.deleteDocument("it's", ["it's#1"])).toBe(1); // quotes in ids are escaped, kept ids survive
    expect((await store.documentChunks("it's")).map((c) => c.id)).toEqual(["it's#1"]);
    await store.close();

    const reopened = await openStore(dir);
    expect(await reopened.count()).toBe(4);
    expect((await reopened.search([0, 0, 1], 1))[0]?.chunk.documentId).toBe('c');
    await expect(reopened.upsert([chunk('d', 0, [1, 0, 0, 0])])).rejects.toMatchObject({ status: 409, code: 'embedding_dimension_mismatch' });
    await expect(reopened.search([1, 0], 1)).rejects.toMatchObject({ code: 'embedding_dimension_mismatch' });
    await reopened.close();
  });

  test('concurrent writes are applied one after another without loss', async () => {
    await withStore(async (store) => {
      await Promise.all(Array.from({ length: 8 }, (_, i) => store.upsert([chunk(`doc${i}`, 0, [i + 1, 1, 0])])));
      expect(await store.count()).toBe(8);
      expect((await store.listDocuments()).map((d) => d.id)).toHaveLength(8);
    });
  });
});
