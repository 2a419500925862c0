import { mkdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildPassages } from '../src/rag/passages';
import { collectFiles } from '../src/ingest/collect';
import { Ingester } from '../src/ingest/ingester';
import type { ChunkRecord, DocumentLoader, VectorStore } from '../src';
import { LoaderRegistry } from '../src/ingest/loaders';
import { removeTemps, tempDir } from './helpers';
import { chunkRecord, openStore } from './store-fixture';

afterAll(removeTemps);

describe('collectFiles', () => {
  test('walks folders for supported files, passes over hidden and unsupported ones, and dedupes', async () => {
    const root = tempDir();
    mkdirSync(path.join(root, 'sub', '.git'), { recursive: true });
    writeFileSync(path.join(root, 'a.md'), 'a');
    writeFileSync(path.join(root, 'sub', 'b.TXT'), 'b');
    writeFileSync(path.join(root, 'sub', 'c.csv'), 'c');
    writeFileSync(path.join(root, 'sub', '.git', 'd.md'), 'd');
    const got = await collectFiles([root, path.join(root, 'a.md')], new LoaderRegistry());
    expect(got.files).toEqual([path.join(root, 'a.md'), path.join(root, 'sub', 'b.TXT')]);
    expect(got.skipped.map((s) => path.basename(s.path))).toEqual(['c.csv']);
  });

  test('errors name the offending path and its index', async () => {
    const root = tempDir();
    writeFileSync(path.join(root, 'x.csv'), '');
    writeFileSync(path.join(root, 'ok.md'), 'ok');
    mkdirSync(path.join(root, 'empty'));
    const loaders = new LoaderRegistry();
    await expect(collectFiles([path.join(root, 'missing')], loaders)).rejects.toMatchObject({ code: 'path_not_found', param: 'paths.0' });
    await expect(collectFiles([root, path.join(root, 'x.csv')], loaders)).rejects.toMatchObject({ code: 'unsupported_file_type', param: 'paths.1' });
    await expect(collectFiles([path.join(root, 'empty')], loaders)).rejects.toMatchObject({ code: 'empty_folder', message: expect.stringContaining('.md') });
    // Asked to, it reports the folder instead (a folder ingest judges it against what is stored).
    const lenient = await collectFiles([path.join(root, 'empty', '.'), root], loaders, undefined, undefined, { allowEmptyFolders: true });
    expect(lenient.folders).toEqual([
      { path: path.join(root, 'empty'), given: path.join(root, 'empty', '.'), index: 0, files: 0 },
      { path: root, given: root, index: 1, files: 1 },
    ]);
  });

  test('with allowed roots, paths outside them (or leading out through a symlink) are refused with 403', async () => {
    const root = tempDir();
    const outside = tempDir();
    writeFileSync(path.join(root, 'in.md'), 'inside');
    writeFileSync(path.join(outside, 'secret.md'), 'outside');
    symlinkSync(path.join(outside, 'secret.md'), path.join(root, 'link.md'));
    const loaders = new LoaderRegistry();
    const got = await collectFiles([path.join(root, 'in.md')], loaders, process.cwd(), [root]);
    expect(got.files).toEqual([path.join(root, 'in.md')]);
    await expect(collectFiles([path.join(outside, 'secret.md')], loaders, process.cwd(), [root])).rejects.toMatchObject({ status: 403, code: 'path_not_allowed', param: 'paths.0' });
    await expect(collectFiles([path.join(root, 'in.md'), path.join(root, 'link.md')], loaders, process.cwd(), [root])).rejects.toMatchObject({ code: 'path_not_allowed', param: 'paths.1' });
    await expect(collectFiles([path.join(root, '..', path.basename(outside), 'secret.md')], loaders, process.cwd(), [root])).rejects.toMatchObject({ code: 'path_not_allowed' });
  });

  test('a loader registered for another extension makes those files ingestible', async () => {
    const root = tempDir();
    writeFileSync(path.join(root, 'table.csv'), 'a,b');
    const csv: DocumentLoader = { extensions: ['.csv'], load: async () => ({ text: 'a b', format: 'text' }) };
    expect(new LoaderRegistry().forFile(path.join(root, 'table.csv'))).toBeUndefined();
    const got = await collectFiles([root], new LoaderRegistry([csv]));
    expect(got.files).toEqual([path.join(root, 'table.csv')]);
  });
});

describe('folder ingest removing deleted files', () => {
  const embedder = async () => ({ embed: async (texts: readonly string[]) => texts.map((t) => [t.length, 1, 0]) });

  test('removes only documents of deleted files under the folder as named; ingest roots bound which folders', async () => {
    const root = tempDir();
    const docs = path.join(root, 'docs');
    const outside = tempDir();
    mkdirSync(docs);
    for (const name of ['a.md', 'b.md']) writeFileSync(path.join(docs, name), `# ${name}\n\nText of ${name}.`);
    writeFileSync(path.join(outside, 'o.md'), '# o\n\nText of o.');
    const store = await openStore();
    try {
      const loaders = new LoaderRegistry();
      await new Ingester(store, loaders, embedder).ingestPaths([docs, outside]);
      const stored = async () => (await store.listDocuments()).map((d) => path.relative(path.dirname(root), d.source)).sort();
      const before = await stored();
      expect(before).toHaveLength(3);

      unlinkSync(path.join(docs, 'b.md'));
      unlinkSync(path.join(outside, 'o.md'));
      symlinkSync(docs, path.join(root, 'alias'));
      const bounded = new Ingester(store, loaders, embedder, {}, [root]);
      // Outside the roots: refused before anything is looked at, so nothing there is removed either.
      await expect(bounded.ingestPaths([outside])).rejects.toMatchObject({ status: 403, code: 'path_not_allowed' });
      // The same folder through a symlink is another path: its files are new documents, and nothing is removed.
      const viaAlias = await bounded.ingestPaths([path.join(root, 'alias')]);
      expect(viaAlias.removed).toEqual([]);
      expect(viaAlias.documents.map((d) => d.status)).toEqual(['added']);
      // Named relative to the base folder: resolved first, so it matches the stored absolute sources.
      const again = await bounded.ingestPaths(['docs'], root);
      expect(again.removed.map((d) => d.source)).toEqual([path.join(docs, 'b.md')]);
      expect(again.documents.map((d) => [d.source, d.status])).toEqual([[path.join(docs, 'a.md'), 'unchanged']]);
      expect(await stored()).toEqual(before.filter((s) => !s.endsWith('b.md')).concat(path.relative(path.dirname(root), path.join(root, 'alias', 'a.md'))).sort());
    } finally {
      await store.close();
    }
  });
  test('a file emptied since the last ingest loses its document; others are untouched', async () => {
    const docs = tempDir();
    for (const name of ['kept.md', 'emptied.md']) writeFileSync(path.join(docs, name), `# ${name}\n\nText of ${name}.`);
    const store = await openStore();
    try {
      const ingester = new Ingester(store, new LoaderRegistry(), embedder);
      await ingester.ingestPaths([docs]);
      const kept = (await store.listDocuments()).find((d) => d.source.endsWith('kept.md'))!;
      const emptied = (await store.listDocuments()).find((d) => d.source.endsWith('emptied.md'))!;
      writeFileSync(emptied.source, '  \n');
      const again = await ingester.ingestPaths([docs]);
      expect(again.removed).toEqual([{ id: emptied.id, source: emptied.source, chunks: emptied.chunks, reason: 'emptied' }]);
      expect(again.skipped).toEqual([{ path: emptied.source, reason: 'empty document' }]);
      expect(again.documents.map((d) => [d.id, d.status])).toEqual([[kept.id, 'unchanged']]);
      expect((await store.listDocuments()).map((d) => d.id)).toEqual([kept.id]);
      // Nothing left to remove the next time: the empty file is only reported.
      const third = await ingester.ingestPaths([docs]);
      expect(third.removed).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

describe('buildPassages', () => {
  const rec = (doc: string, position: number, text: string, headingPath: string[] = []): ChunkRecord => chunkRecord(doc, position, text, { headingPath });
  const docs: Record<string, ChunkRecord[]> = {
    a: [rec('a', 0, 'Alpha intro sentence one.', ['A']), rec('a', 1, 'Alpha intro sentence one. Alpha people live here.', ['A', 'People']), rec('a', 2, 'Far away.')],
    b: [rec('b', 0, 'Beta text.')],
  };
  const store = { documentChunks: async (id: string) => docs[id] ?? [] } as unknown as VectorStore;

  test('widens hits with neighbouring chunks, merges them without the repeated overlap, best document first', async () => {
    const passages = await buildPassages(
      [
        { chunk: docs.a?.[0] as ChunkRecord, score: 0.9 },
        { chunk: docs.b?.[0] as ChunkRecord, score: 0.5 },
      ],
      store,
    );
    expect(passages.map((p) => [p.index, p.documentId, p.chunks.map((c) => c.position), p.score])).toEqual([
      [1, 'a', [0, 1], 0.9],
      [2, 'b', [0], 0.5],
    ]);
    expect(passages[0]?.text).toBe('(A) Alpha intro sentence one.\n\n(A > People) Alpha people live here.');
  });

  test('in a paged document, passages neither widen nor merge across a page break, and cite their page', async () => {
    const paged: Record<string, ChunkRecord[]> = {
      p: [{ ...rec('p', 0, 'End of page one.'), page: 1 }, { ...rec('p', 1, 'Top of page two.'), page: 2 }, { ...rec('p', 2, 'More of page two.'), page: 2 }],
    };
    const pagedStore = { documentChunks: async (id: string) => paged[id] ?? [] } as unknown as VectorStore;
    const hits = [
      { chunk: paged.p?.[1] as ChunkRecord, score: 0.9, retriever: 'fulltext' as const },
      { chunk: paged.p?.[0] as ChunkRecord, score: 0.5, retriever: 'vector' as const },
    ];
    const passages = await buildPassages(hits, pagedStore);
    expect(passages.map((p) => [p.chunks.map((c) => c.position), p.pages, p.retriever])).toEqual([
      [[1, 2], [2], 'fulltext'],
      [[0], [1], 'vector'],
    ]);
  });

  test('neighbours are added only within the token budget, and not at all when turned off', async () => {
    const hits = [{ chunk: docs.a?.[1] as ChunkRecord, score: 0.8 }];
    expect((await buildPassages(hits, store, { neighbors: 0 }))[0]?.chunks).toHaveLength(1);
    expect((await buildPassages(hits, store, { maxContextTokens: 1 }))[0]?.chunks).toHaveLength(1);
    expect((await buildPassages(hits, store))[0]?.chunks.map((c) => c.position)).toEqual([0, 1, 2]);
  });
});
