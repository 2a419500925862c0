// The embedded default vector store: one LanceDB table of chunks on local disk (F-502), with a full-text
// (BM25) index beside the vectors. The table is created on the first write, when the embedding dimension is
// known; writes are serialised within the process. Rows written since the full-text index was last brought
// up to date are still searched (LanceDB scans them), so the index is only refreshed once enough gather.
import { mkdirSync } from 'node:fs';
import * as lancedb from '@lancedb/lancedb';
import { Field, FixedSizeList, Float32, Float64, Int32, Schema, Utf8 } from 'apache-arrow';
import { GatewayError } from '../errors';
import { indexText } from '../ingest/index-text';
import { documentOrder } from './document-order';
import type { ChunkRecord, DocumentInfo, SearchHit, StoredChunk, VectorStore, WeightedText } from './vector-store';

const TABLE = 'chunks';
const FTS_COLUMN = 'search_text';
const META_COLUMNS = ['id', 'document_id', 'source', 'position', 'heading_path', 'text', 'document_hash', 'ingested_at', 'page', 'title', 'tags'];
/** Unindexed rows that make a write bring the full-text index up to date (and compact the table). */
const REINDEX_ROWS = 256;

/** Columns added since the first release, with the value rows of older tables get (none of them had these). */
const ADDED_COLUMNS = [
  { name: 'page', valueSql: 'CAST(NULL AS INT)' },
  { name: 'title', valueSql: 'CAST(NULL AS STRING)' },
  { name: 'tags', valueSql: 'CAST(NULL AS STRING)' },
  { name: FTS_COLUMN, valueSql: 'text' },
];

function schema(dimension: number): Schema {
  return new Schema([
    new Field('id', new Utf8(), false),
    new Field('document_id', new Utf8(), false),
    new Field('source', new Utf8(), false),
    new Field('position', new Int32(), false),
    new Field('heading_path', new Utf8(), false),
    new Field('text', new Utf8(), false),
    new Field('document_hash', new Utf8(), false),
    new Field('ingested_at', new Float64(), false),
    new Field('vector', new FixedSizeList(dimension, new Field('item', new Float32(), true)), false),
    new Field('page', new Int32(), true),
    new Field('title', new Utf8(), true),
    new Field('tags', new Utf8(), true),
    new Field(FTS_COLUMN, new Utf8(), true),
  ]);
}

/** Tokenisation of the full-text index: English stemming ("pumps" finds "pump"), no stop words, accents folded. */
const FTS_OPTIONS = { baseTokenizer: 'simple', language: 'English', stem: true, removeStopWords: true, lowercase: true, asciiFolding: true, withPosition: false } as const;

/** A SQL string literal (LanceDB filters are DataFusion SQL). */
function sql(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

type Row = Record<string, unknown>;

const present = (v: unknown): boolean => v !== null && v !== undefined;

function toRecord(row: Row): ChunkRecord {
  return {
    id: String(row.id),
    documentId: String(row.document_id),
    source: String(row.source),
    position: Number(row.position),
    headingPath: JSON.parse(String(row.heading_path)) as string[],
    text: String(row.text),
    documentHash: String(row.document_hash),
    ingestedAt: Number(row.ingested_at),
    ...(present(row.page) && { page: Number(row.page) }),
    ...(present(row.title) && { title: String(row.title) }),
    ...(present(row.tags) && { tags: JSON.parse(String(row.tags)) as string[] }),
  };
}

function toRow(c: StoredChunk): Row {
  return {
    id: c.id,
    document_id: c.documentId,
    source: c.source,
    position: c.position,
    heading_path: JSON.stringify(c.headingPath),
    text: c.text,
    document_hash: c.documentHash,
    ingested_at: c.ingestedAt,
    vector: c.vector,
    page: c.page ?? null,
    title: c.title ?? null,
    tags: c.tags && c.tags.length > 0 ? JSON.stringify(c.tags) : null,
    [FTS_COLUMN]: indexText(c),
  };
}

export class LanceDBVectorStore implements VectorStore {
  private table: lancedb.Table | undefined;
  private dimension: number | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly db: lancedb.Connection,
    readonly directory: string,
  ) {}

  /** Opens (or creates) the store in `directory`; a table written by an older version gains the new columns and indexes. */
  static async open(directory: string): Promise<LanceDBVectorStore> {
    mkdirSync(directory, { recursive: true });
    const db = await lancedb.connect(directory);
    const store = new LanceDBVectorStore(db, directory);
    if ((await db.tableNames()).includes(TABLE)) {
      const table = await db.openTable(TABLE);
      store.table = table;
      const fields = (await table.schema()).fields;
      const vector = fields.find((f) => f.name === 'vector');
      store.dimension = (vector?.type as FixedSizeList | undefined)?.listSize;
      const missing = ADDED_COLUMNS.filter((c) => !fields.some((f) => f.name === c.name));
      if (missing.length > 0) await table.addColumns(missing);
      await store.ensureFullTextIndex(table);
    }
    return store;
  }

  private async ensureFullTextIndex(table: lancedb.Table): Promise<void> {
    const indices = await table.listIndices();
    if (indices.some((i) => i.indexType === 'FTS' && i.columns.includes(FTS_COLUMN))) return;
    await table.createIndex(FTS_COLUMN, { config: lancedb.Index.fts(FTS_OPTIONS) });
  }

  /** Folds rows written since into the full-text index once there are enough of them to slow searches. */
  private async refreshIndexes(table: lancedb.Table): Promise<void> {
    const stats = await table.indexStats(`${FTS_COLUMN}_idx`);
    if (stats && stats.numUnindexedRows >= REINDEX_ROWS) await table.optimize();
  }

  /** Runs write operations one at a time, in call order. */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  upsert(chunks: readonly StoredChunk[]): Promise<void> {
    return this.serial(async () => {
      if (chunks.length === 0) return;
      const dim = (chunks[0] as StoredChunk).vector.length;
      const bad = chunks.find((c) => c.vector.length !== (this.dimension ?? dim));
      if (bad) {
        throw new GatewayError(
          409,
          `embedding dimension ${bad.vector.length} does not match the store's ${this.dimension ?? dim} (was the embedding model changed? use another data directory or delete ${this.directory})`,
          'embedding_dimension_mismatch',
        );
      }
      const rows = chunks.map(toRow);
      if (!this.table) {
        const table = await this.db.createTable(TABLE, rows, { schema: schema(dim), existOk: false });
        await this.ensureFullTextIndex(table);
        this.table = table;
        this.dimension = dim;
        return;
      }
      await this.table.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows);
      await this.refreshIndexes(this.table);
    });
  }

  async search(vector: readonly number[], k: number): Promise<SearchHit[]> {
    if (!this.table || k <= 0) return [];
    if (this.dimension !== undefined && vector.length !== this.dimension) {
      throw new GatewayError(409, `query embedding has dimension ${vector.length}, the store holds ${this.dimension}`, 'embedding_dimension_mismatch');
    }
    const rows = (await this.table
      .vectorSearch([...vector])
      .distanceType('cosine')
      .select([...META_COLUMNS, '_distance'])
      .limit(k)
      .toArray()) as Row[];
    return rows.map((r) => ({ chunk: toRecord(r), score: 1 - Number(r._distance) }));
  }

  async searchText(query: readonly WeightedText[], k: number): Promise<SearchHit[]> {
    const parts = query.filter((q) => q.text.trim() !== '' && q.weight > 0);
    if (!this.table || k <= 0 || parts.length === 0) return [];
    const matches = parts.map((q) => new lancedb.MatchQuery(q.text, FTS_COLUMN, { boost: q.weight, operator: lancedb.Operator.Or }));
    const fts = matches.length === 1 ? (matches[0] as lancedb.MatchQuery) : new lancedb.BooleanQuery(matches.map((m) => [lancedb.Occur.Should, m]));
    // Equal BM25 scores are common (chunks sharing the matched words and their length) and LanceDB returns
    // them in no fixed order: more are fetched and ties put in document order, so a query always gives the
    // same list.
    const rows = (await this.table
      .query()
      .fullTextSearch(fts)
      .select([...META_COLUMNS, '_score'])
      .limit(2 * k + 8)
      .toArray()) as Row[];
    return rows
      .map((r) => ({ chunk: toRecord(r), score: Number(r._score) }))
      .sort((a, b) => b.score - a.score || documentOrder(a.chunk, b.chunk))
      .slice(0, k);
  }

  deleteDocument(documentId: string, keep: readonly string[] = []): Promise<number> {
    return this.serial(async () => {
      if (!this.table) return 0;
      let predicate = `document_id = ${sql(documentId)}`;
      if (keep.length > 0) predicate += ` AND id NOT IN (${keep.map(sql).join(', ')})`;
      const res = await this.table.delete(predicate);
      return (res as { numDeletedRows?: number }).numDeletedRows ?? 0;
    });
  }

  async documentChunks(documentId: string): Promise<ChunkRecord[]> {
    if (!this.table) return [];
    const rows = (await this.table.query().where(`document_id = ${sql(documentId)}`).select(META_COLUMNS).toArray()) as Row[];
    return rows.map(toRecord).sort((a, b) => a.position - b.position);
  }

  async listDocuments(): Promise<DocumentInfo[]> {
    if (!this.table) return [];
    const rows = (await this.table.query().select(['document_id', 'source', 'document_hash', 'ingested_at', 'title', 'tags']).toArray()) as Row[];
    const docs = new Map<string, DocumentInfo>();
    for (const r of rows) {
      const id = String(r.document_id);
      const doc = docs.get(id);
      if (doc) {
        doc.chunks++;
        doc.ingestedAt = Math.max(doc.ingestedAt, Number(r.ingested_at));
      } else {
        docs.set(id, {
          id,
          source: String(r.source),
          documentHash: String(r.document_hash),
          chunks: 1,
          ingestedAt: Number(r.ingested_at),
          ...(present(r.title) && { title: String(r.title) }),
          ...(present(r.tags) && { tags: JSON.parse(String(r.tags)) as string[] }),
        });
      }
    }
    return [...docs.values()].sort((a, b) => a.source.localeCompare(b.source) || a.id.localeCompare(b.id));
  }

  async count(): Promise<number> {
    return this.table ? this.table.countRows() : 0;
  }

  async close(): Promise<void> {
    await this.queue;
    this.table?.close();
    this.db.close();
  }
}
