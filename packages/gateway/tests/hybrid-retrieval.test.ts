// Hybrid retrieval: reciprocal rank fusion, LanceDB's full-text index beside the vectors (also on a store
// written before it existed), and the retriever's modes, against a real LanceDB store.
import { fuseRankings, Retriever } from '../src/rag/retriever';
import type { ChunkRecord, LanceDBVectorStore, SearchHit, StoredChunk, VectorStore } from '../src';
import { removeTemps } from './helpers';
import { chunkRecord, openStore, storeDir, storedChunk, withStore, writeLegacyStore } from './store-fixture';

afterAll(removeTemps);

const hits = (ids: string[], score = (i: number) => 1 - i / 10): SearchHit[] => ids.map((id, i) => ({ chunk: chunkRecord(id, 0, id, { id }), score: score(i) }));

describe('fuseRankings', () => {
  test('sums weight / (k + rank) over both lists, scaled so that first in both is 1, and names the retrievers', () => {
    const fused = fuseRankings(hits(['a', 'b', 'c']), hits(['b', 'd']), { rrfK: 60 });
    expect(fused.map((h) => [h.chunk.id, h.retriever, h.ranks])).toEqual([
      ['b', 'both', { vector: 2, fulltext: 1 }],
      ['a', 'vector', { vector: 1 }],
      ['d', 'fulltext', { fulltext: 2 }],
      ['c', 'vector', { vector: 3 }],
    ]);
    expect(fused[0]?.score).toBeCloseTo((1 / 62 + 1 / 61) / (2 / 61), 10);
    expect(fused[1]?.score).toBeCloseTo(1 / 61 / (2 / 61), 10);
    expect(fused[0]?.similarity).toBeCloseTo(0.9, 10); // the cosine similarity the vector list gave
    expect(fused[2]?.similarity).toBeUndefined();
    expect(fuseRankings(hits(['a']), hits(['a']))[0]?.score).toBeCloseTo(1, 10);
  });

  test('weights move the balance; a weight of 0 leaves that list as a tie-breaker only', () => {
    const text = fuseRankings(hits(['a', 'b']), hits(['b', 'a']), { vectorWeight: 1, fulltextWeight: 3 });
    expect(text.map((h) => h.chunk.id)).toEqual(['b', 'a']);
    const vector = fuseRankings(hits(['a', 'b']), hits(['b', 'a']), { vectorWeight: 3, fulltextWeight: 1 });
    expect(vector.map((h) => h.chunk.id)).toEqual(['a', 'b']);
    const only = fuseRankings(hits(['a', 'b', 'c']), hits(['c']), { fulltextWeight: 0 });
    expect(only.map((h) => [h.chunk.id, h.retriever])).toEqual([
      ['a', 'vector'],
      ['b', 'vector'],
      ['c', 'both'],
    ]);
  });
});

/** Three-dimensional "embeddings": fixed ones for some texts, by topic for the rest, so the vector and the
 * full-text rankings can disagree on purpose. */
const FIXED: Record<string, number[]> = {
  'The ferry crosses the sound in twenty minutes.': [1, 0, 0],
  'Ferry tickets are sold on board.': [0.9, 0.44, 0],
  'The pump carries the serial number QX-4471.': [0.5, 0.3, 0.81],
  'Tide tables hang in the harbour office.': [0.2, 0, 0.98],
  'Which ferry pump has serial QX-4471?': [1, 0.1, 0],
};
const TOPIC: Record<string, number[]> = { ferry: [1, 0, 0], pump: [0, 1, 0], tide: [0, 0, 1] };
const embed = (text: string): number[] => {
  if (FIXED[text]) return FIXED[text];
  const v = [0, 0, 0];
  for (const [word, dir] of Object.entries(TOPIC)) if (text.toLowerCase().includes(word)) dir.forEach((x, i) => (v[i] = (v[i] as number) + x));
  return v.some((x) => x !== 0) ? v : [0.1, 0.1, 0.1];
};
const embedder = async () => ({ embed: async (texts: readonly string[]) => texts.map(embed) });

const chunk = (documentId: string, position: number, text: string, extra: Partial<ChunkRecord> = {}): StoredChunk => storedChunk(documentId, position, text, embed(text), extra);

describe('LanceDBVectorStore full-text search', () => {
  test('finds chunks by their words (stemmed, stop words ignored), titles and headings included; reflects updates and deletes', async () => {
    await withStore(async (store) => {
      await store.upsert([
        chunk('manual', 0, 'The ferry pump has part number KV-3312.', { page: 4, title: 'Merrow manual' }),
        chunk('manual', 1, 'Pumps are serviced every 400 hours.', { headingPath: ['Maintenance'] }),
        chunk('tides', 0, 'High tide at Ostmark is at 06:12.', { tags: ['harbour'] }),
      ]);
      const find = async (text: string) => (await store.searchText([{ text, weight: 1 }], 5)).map((h) => h.chunk.id);
      expect(await find('KV-3312')).toEqual(['manual#0']);
      expect(await find('which pumps')).toEqual(expect.arrayContaining(['manual#0', 'manual#1'])); // "pumps" and "pump" share a stem
      expect(await find('merrow')).toEqual(['manual#0']); // the title is indexed with the text
      expect(await find('maintenance')).toEqual(['manual#1']); // and so are the headings
      expect(await find('the of and')).toEqual([]);
      expect(await find('"unbalanced (AND: OR')).toEqual([]);
      const hit = (await store.searchText([{ text: 'KV-3312', weight: 1 }], 1))[0];
      expect(hit?.chunk).toMatchObject({ page: 4, title: 'Merrow manual', text: 'The ferry pump has part number KV-3312.' });
      expect(hit?.score).toBeGreaterThan(0);

      // Rows written after the index was built are found at once; replaced and deleted ones are gone.
      await store.upsert([chunk('tides', 0, 'High tide at Ostmark is at 07:40.'), chunk('notes', 0, 'The ferry KV-3312 pump was replaced in May.')]);
      expect(await find('07:40')).toEqual(['tides#0']);
      expect(await find('06:12')).toEqual([]);
      expect(await find('KV-3312')).toEqual(expect.arrayContaining(['manual#0', 'notes#0']));
      await store.deleteDocument('notes');
      expect(await find('KV-3312')).toEqual(['manual#0']);

      // A weighted part counts less: the history's words rank below the question's.
      const weighted = await store.searchText([{ text: 'tide', weight: 1 }, { text: 'pump', weight: 0.2 }], 5);
      expect(weighted[0]?.chunk.id).toBe('tides#0');
    });
  });

  test('a store written before full-text search existed gains the new columns and the index, and keeps its chunks', async () => {
    const dir = storeDir();
    await writeLegacyStore(dir, [
      { id: 'a#0', text: 'The lighthouse lens is 2 metres tall.', vector: [1, 0, 0] },
      { id: 'b#0', text: 'The ferry leaves at noon.', vector: [0, 1, 0] },
    ]);

    const store = await openStore(dir);
    try {
      expect(await store.count()).toBe(2);
      expect((await store.searchText([{ text: 'lighthouse lens', weight: 1 }], 3)).map((h) => h.chunk.id)).toEqual(['a#0']);
      expect((await store.search([0, 1, 0], 1))[0]?.chunk).toEqual({ id: 'b#0', documentId: 'b', source: '/old/b#0', position: 0, headingPath: ['Old'], text: 'The ferry leaves at noon.', documentHash: 'h', ingestedAt: 5 });
      await store.upsert([chunk('c', 0, 'Tide tables are posted at the quay.', { page: 2 })]);
      expect((await store.searchText([{ text: 'quay', weight: 1 }], 3))[0]?.chunk.page).toBe(2);
    } finally {
      await store.close();
    }
  });
});

describe('Retriever modes', () => {
  let store: LanceDBVectorStore;
  beforeAll(async () => {
    store = await openStore();
    await store.upsert([
      chunk('a', 0, 'The ferry crosses the sound in twenty minutes.'),
      chunk('b', 0, 'Ferry tickets are sold on board.'),
      chunk('c', 0, 'The pump carries the serial number QX-4471.'),
      chunk('d', 0, 'Tide tables hang in the harbour office.'),
    ]);
  });
  afterAll(() => store.close());

  test('hybrid returns the exact code the vector search ranks low and the close meaning full text misses, saying who found what', async () => {
    const retriever = new Retriever(store, embedder, { topK: 2 });
    const question = 'Which ferry pump has serial QX-4471?';
    const vectorOnly = await retriever.search(question, { mode: 'vector' });
    expect(vectorOnly.map((h) => [h.chunk.id, h.retriever, h.ranks])).toEqual([
      ['a#0', 'vector', { vector: 1 }],
      ['b#0', 'vector', { vector: 2 }],
    ]);
    expect(vectorOnly[0]?.score).toBe(vectorOnly[0]?.similarity);
    const textOnly = await retriever.search(question, { mode: 'fulltext' });
    expect(textOnly[0]?.chunk.id).toBe('c#0');
    expect(textOnly.map((h) => h.chunk.id)).not.toContain('a#0');

    const hybrid = await retriever.search(question);
    expect(hybrid.map((h) => h.chunk.id)).toEqual(['a#0', 'c#0']);
    const [a, c] = hybrid;
    expect(c).toMatchObject({ retriever: 'fulltext', ranks: { vector: 3, fulltext: 1 } });
    expect(a?.retriever).toBe((a?.ranks.fulltext ?? 99) <= 2 ? 'both' : 'vector');
    expect(a?.score).toBeGreaterThanOrEqual(c?.score as number);
  });

  test('a follow-up is searched with the earlier question, in both retrievers', async () => {
    const retriever = new Retriever(store, embedder, { topK: 1 });
    const hits = await retriever.forConversation([
      { role: 'user', content: 'Where do the tide tables hang?' },
      { role: 'assistant', content: 'In the harbour office.' },
      { role: 'user', content: 'Since when?' },
    ]);
    expect(hits.map((h) => [h.chunk.id, h.retriever])).toEqual([['d#0', 'both']]);
  });

  test('a store without full-text search retrieves by vector, and refuses full-text mode clearly', async () => {
    const vectorOnlyStore: VectorStore = {
      search: (v, k) => store.search(v, k),
      upsert: async () => undefined,
      deleteDocument: async () => 0,
      documentChunks: async () => [],
      listDocuments: async () => [],
      count: async () => 4,
      close: async () => undefined,
    };
    const retriever = new Retriever(vectorOnlyStore, embedder, { topK: 2 });
    const hits = await retriever.search('ferry');
    expect(hits.map((h) => h.retriever)).toEqual(['vector', 'vector']);
    await expect(retriever.search('ferry', { mode: 'fulltext' })).rejects.toMatchObject({ status: 400, code: 'fulltext_unavailable' });
  });
});
