// The embedded default vector store: one LanceDB table of chunks on local disk (F-502). The table is created
// on the first write, when the embedding dimension is known; writes are serialised within the process.
import { mkdirSync } from 'node:fs';
import * as lancedb from '@lancedb/lancedb';
import { Field, FixedSizeList, Float32, Float64, Int32, Schema, Utf8 } from 'apache-arrow';
import { GatewayError } from '../errors';
import type { ChunkRecord, DocumentInfo, SearchHit, StoredChunk, VectorStore } from './vector-store';

const TABLE = 'chunks';
const META_COLUMNS = ['id', 'document_id', 'source', 'position', 'heading_path', 'text', 'document_hash', 'ingested_at'];

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
  ]);
}

/** A SQL string literal (LanceDB filters are DataFusion SQL). */
function sql(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

type Row = Record<string, unknown>;

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

  /** Opens (or creates) the store in `directory`. */
  static async open(directory: string): Promise<LanceDBVectorStore> {
    mkdirSync(directory, { recursive: true });
    const db = await lancedb.connect(directory);
    const store = new LanceDBVectorStore(db, directory);
    if ((await db.tableNames()).includes(TABLE)) {
      store.table = await db.openTable(TABLE);
      const vector = (await store.table.schema()).fields.find((f) => f.name === 'vector');
      store.dimension = (vector?.type as FixedSizeList | undefined)?.listSize;
    }
    return store;
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
        this.table = await this.db.createTable(TABLE, rows, { schema: schema(dim), existOk: false });
        this.dimension = dim;
        return;
      }
      await this.table.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows);
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
    const rows = (await this.table.query().select(['document_id', 'source', 'document_hash', 'ingested_at']).toArray()) as Row[];
    const docs = new Map<string, DocumentInfo>();
    for (const r of rows) {
      const id = String(r.document_id);
      const doc = docs.get(id);
      if (doc) {
        doc.chunks++;
        doc.ingestedAt = Math.max(doc.ingestedAt, Number(r.ingested_at));
      } else {
        docs.set(id, { id, source: String(r.source), documentHash: String(r.document_hash), chunks: 1, ingestedAt: Number(r.ingested_at) });
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
