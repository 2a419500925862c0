// The LanceDB fixture the gateway tests share: a real LanceDBVectorStore in a temporary directory (removeTemps()
// deletes it), chunks with the fields a test does not care about filled in, and a store as releases before
// full-text search wrote it.
import path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { Field, FixedSizeList, Float32, Float64, Int32, Schema, Utf8 } from 'apache-arrow';
import { LanceDBVectorStore, type ChunkRecord, type StoredChunk } from '../src';
import { tempDir } from './helpers';

/** A store directory that does not exist yet, under a temporary directory. */
export function storeDir(): string {
  return path.join(tempDir(), 'vectors');
}

/** An empty store (or the one in `dir`); the caller closes it. */
export function openStore(dir = storeDir()): Promise<LanceDBVectorStore> {
  return LanceDBVectorStore.open(dir);
}

/** Runs `fn` on an empty store and closes the store afterwards, whether `fn` passed or threw. */
export async function withStore<T>(fn: (store: LanceDBVectorStore) => Promise<T>): Promise<T> {
  const store = await openStore();
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Chunk `position` of `documentId`: id `<doc>#<position>`, source `/docs/<doc>.md`; `extra` overrides any field. */
export function chunkRecord(documentId: string, position: number, text: string, extra: Partial<ChunkRecord> = {}): ChunkRecord {
  return {
    id: `${documentId}#${position}`,
    documentId,
    source: `/docs/${documentId}.md`,
    position,
    headingPath: [],
    text,
    documentHash: `h-${documentId}`,
    ingestedAt: 1,
    ...extra,
  };
}

/** The same chunk with its embedding, as a store holds it. */
export function storedChunk(documentId: string, position: number, text: string, vector: number[], extra: Partial<ChunkRecord> = {}): StoredChunk {
  return { ...chunkRecord(documentId, position, text, extra), vector };
}

export interface LegacyRow {
  id: string;
  text: string;
  vector: number[];
}

/**
 * Writes `rows` into a new store at `dir` the way releases before full-text search did: the first table layout,
 * without page, title, tags and the full-text column, every row with heading ["Old"], source `/old/<id>` and
 * ingested at 5. Written out here rather than taken from src, so that it stays the old format when src moves on.
 */
export async function writeLegacyStore(dir: string, rows: LegacyRow[]): Promise<void> {
  const dimension = rows[0]?.vector.length ?? 3;
  const schema = new Schema([
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
  const data = rows.map(({ id, text, vector }) => ({
    id,
    document_id: id.split('#')[0],
    source: `/old/${id}`,
    position: 0,
    heading_path: '["Old"]',
    text,
    document_hash: 'h',
    ingested_at: 5,
    vector,
  }));
  const db = await lancedb.connect(dir);
  try {
    const table = await db.createTable('chunks', data, { schema });
    table.close();
  } finally {
    db.close();
  }
}
