// Ingestion (F-501): collect → load → chunk → compare hashes → embed what changed → store. Every input is
// read and checked, and every changed document embedded, before the first write, so a failure leaves the
// store as it was. An unchanged document (same content hash) costs no embedding call and no write; a
// changed one gets its new chunks written and its stale chunks removed, leaving other documents alone.
// Ingesting a folder also removes the documents of files under it that were deleted since (vanished.ts).
// A file in a folder that cannot be parsed (a damaged or encrypted PDF) is reported in `failed` and the
// rest is ingested; whatever was stored for it before stays.
import path from 'node:path';
import { GatewayError } from '../errors';
import type { DocumentInfo, StoredChunk, VectorStore } from '../store/vector-store';
import { chunkDocument, chunkingFingerprint, type ChunkingOptions } from './chunker';
import { collectFiles, emptyFolderError, within } from './collect';
import { toLoadError, type DocumentFormat, type DocumentMetadata, type LoadedDocument, type LoadErrorCode } from './document';
import { fileDocumentId, isFileDocument, sha256 } from './document-id';
import { splitFrontMatter } from './front-matter';
import { indexText } from './index-text';
import type { LoaderRegistry } from './loaders';
import { vanishedDocuments } from './vanished';

export { fileDocumentId };

/** A document given as text rather than as a file. */
export interface TextDocument {
  id: string;
  text: string;
  source?: string;
  /** 'markdown' (default; YAML front matter gives the title and tags) or 'text'. */
  format?: DocumentFormat;
}

export type IngestStatus = 'added' | 'updated' | 'unchanged';

export interface IngestedDocument {
  id: string;
  source: string;
  status: IngestStatus;
  chunks: number;
  /** Pages, for paged documents (PDF). */
  pages?: number;
  title?: string;
}

/** A file that could not be turned into text, and why; the rest of the request went ahead without it. */
export interface FailedFile {
  path: string;
  code: LoadErrorCode;
  reason: string;
}

/** A document removed because its file under an ingested folder no longer exists. */
export interface RemovedDocument {
  id: string;
  source: string;
  /** Its chunks, all removed. */
  chunks: number;
  /** The file is gone, or it is still there but has no text any more (its old text must not be found). */
  reason: 'deleted' | 'emptied';
}

export interface IngestResult {
  documents: IngestedDocument[];
  /** Chunks written (new or replaced) by this call. */
  chunksWritten: number;
  /** Chunks removed by this call: stale chunks of changed documents and all chunks of removed ones. */
  chunksRemoved: number;
  /** Documents of files deleted or emptied under the ingested folders (always empty for single files and inline text). */
  removed: RemovedDocument[];
  skipped: { path: string; reason: string }[];
  /** Files that could not be parsed (each with its reason); documents stored for them before are kept. */
  failed: FailedFile[];
}

export interface Embedder {
  embed(texts: readonly string[]): Promise<number[][]>;
}

interface Prepared extends LoadedDocument {
  id: string;
  source: string;
  metadata: DocumentMetadata;
}

/** What gets embedded for a chunk: its headings give it the context a lone paragraph lacks (see indexText). */
export function embeddingText(headingPath: readonly string[], text: string): string {
  return indexText({ headingPath, text });
}

export class Ingester {
  // Ingestions run one at a time: two requests touching the same document must not interleave their
  // compare-then-write steps.
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: VectorStore,
    private readonly loaders: LoaderRegistry,
    private readonly embedder: () => Promise<Embedder>,
    private readonly chunking: ChunkingOptions = {},
    /** Folders paths must lie in (undefined: any path the process can read). */
    private readonly allowedRoots?: readonly string[],
  ) {}

  async ingestPaths(paths: readonly string[], baseDir?: string): Promise<IngestResult> {
    if (paths.length === 0) throw new GatewayError(400, 'paths must name at least one file or folder', 'invalid_value', 'paths');
    // Empty folders are judged below, against the store: one whose files were all deleted is not an error.
    const { files, skipped, folders } = await collectFiles(paths, this.loaders, baseDir, this.allowedRoots, { allowEmptyFolders: true });
    const prepared: Prepared[] = [];
    const emptyFiles = new Set<string>();
    const failed: FailedFile[] = [];
    // One file asked for by name: its problem is the request's, and answered as an error.
    const sole = paths.length === 1 && files.length === 1;
    for (const file of files) {
      const loader = this.loaders.forFile(file);
      if (!loader) continue; // collectFiles only returns supported files
      let doc: LoadedDocument;
      try {
        doc = await loader.load(file);
      } catch (err) {
        const e = toLoadError(err);
        if (sole) throw new GatewayError(400, `could not read ${file}: ${e.message}`, e.code, 'paths.0');
        failed.push({ path: file, code: e.code, reason: e.message });
        continue;
      }
      if (doc.text.trim() === '') {
        // A named empty file is an error; an empty file found in a folder is reported and passed over.
        if (sole) throw new GatewayError(400, `document ${file} is empty`, 'empty_document', 'paths.0');
        skipped.push({ path: file, reason: 'empty document' });
        emptyFiles.add(file);
        continue;
      }
      prepared.push({ ...doc, id: fileDocumentId(file), source: file, metadata: doc.metadata ?? {} });
    }
    return this.serial(async () => {
      const existing = await this.store.listDocuments();
      const vanished = await vanishedDocuments(existing, folders.map((f) => f.path), new Set(files));
      const emptiedFolder = folders.find((f) => f.files === 0 && !vanished.some((d) => within(f.path, d.source)));
      if (emptiedFolder) throw emptyFolderError(emptiedFolder.given, emptiedFolder.index, this.loaders);
      // A file found in a folder that has lost all its text: its old chunks would otherwise still answer.
      const emptied = existing.filter((d) => emptyFiles.has(d.source) && isFileDocument(d));
      const removed: RemovedDocument[] = [
        ...vanished.map((d) => ({ id: d.id, source: d.source, chunks: d.chunks, reason: 'deleted' as const })),
        ...emptied.map((d) => ({ id: d.id, source: d.source, chunks: d.chunks, reason: 'emptied' as const })),
      ];
      if (prepared.length === 0 && removed.length === 0) {
        if (failed.length > 0) {
          const reasons = failed.map((f) => `${path.basename(f.path)}: ${f.reason}`).join('; ');
          throw new GatewayError(400, `no document could be read from the given paths (${reasons})`, 'unreadable_file', 'paths');
        }
        throw new GatewayError(400, 'no document with text was found in the given paths', 'empty_document', 'paths');
      }
      const result = await this.write(prepared, existing);
      // Removed only after the new chunks are stored, so a failed embedding leaves everything in place.
      let chunksRemoved = result.chunksRemoved;
      for (const d of removed) chunksRemoved += await this.store.deleteDocument(d.id);
      return { ...result, chunksRemoved, removed, skipped, failed };
    });
  }

  async ingestDocuments(docs: readonly TextDocument[]): Promise<IngestResult> {
    if (docs.length === 0) throw new GatewayError(400, 'documents must contain at least one document', 'invalid_value', 'documents');
    const seen = new Set<string>();
    docs.forEach((d, i) => {
      if (seen.has(d.id)) throw new GatewayError(400, `document id "${d.id}" appears twice`, 'duplicate_document_id', `documents.${i}.id`);
      seen.add(d.id);
      if (d.text.trim() === '') throw new GatewayError(400, `document "${d.id}" has no text`, 'empty_document', `documents.${i}.text`);
    });
    const prepared = docs.map((d): Prepared => {
      const source = d.source ?? d.id;
      if (d.format === 'text') return { id: d.id, source, text: d.text, format: 'text', metadata: {} };
      const { body, metadata } = splitFrontMatter(d.text.replace(/\r\n?/g, '\n'));
      return { id: d.id, source, text: body, format: 'markdown', metadata };
    });
    return this.serial(async () => ({ ...(await this.write(prepared, await this.store.listDocuments())), removed: [], skipped: [], failed: [] }));
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async write(docs: Prepared[], stored: readonly DocumentInfo[]): Promise<Omit<IngestResult, 'removed' | 'skipped' | 'failed'>> {
    const existing = new Map(stored.map((d) => [d.id, d]));
    const fingerprint = chunkingFingerprint(this.chunking);
    const now = Date.now();
    const results: IngestedDocument[] = [];
    const pending: { doc: Prepared; hash: string; chunks: Omit<StoredChunk, 'vector'>[] }[] = [];

    for (const doc of docs) {
      const content = doc.pages ? doc.pages.join('\f') : doc.text;
      const hash = sha256(`${fingerprint}\n${doc.source}\n${JSON.stringify(doc.metadata)}\n${content}`);
      const before = existing.get(doc.id);
      const about = { ...(doc.pages && { pages: doc.pages.length }), ...(doc.metadata.title && { title: doc.metadata.title }) };
      if (before && before.documentHash === hash) {
        results.push({ id: doc.id, source: doc.source, status: 'unchanged', chunks: before.chunks, ...about });
        continue;
      }
      const pieces = chunkDocument(doc, this.chunking);
      if (pieces.length === 0) throw new GatewayError(400, `document "${doc.source}" has no text to index`, 'empty_document');
      const chunks = pieces.map((p) => ({
        id: `${doc.id}#${p.position}-${sha256(`${doc.id}\n${p.position}\n${p.page ?? ''}\n${p.text}`).slice(0, 12)}`,
        documentId: doc.id,
        source: doc.source,
        position: p.position,
        headingPath: p.headingPath,
        text: p.text,
        documentHash: hash,
        ingestedAt: now,
        ...(p.page !== undefined && { page: p.page }),
        ...(doc.metadata.title && { title: doc.metadata.title }),
        ...(doc.metadata.tags && { tags: doc.metadata.tags }),
      }));
      pending.push({ doc, hash, chunks });
      results.push({ id: doc.id, source: doc.source, status: before ? 'updated' : 'added', chunks: chunks.length, ...about });
    }

    const all = pending.flatMap((p) => p.chunks);
    if (all.length === 0) return { documents: results, chunksWritten: 0, chunksRemoved: 0 };
    const embedder = await this.embedder();
    const vectors = await embedder.embed(all.map((c) => indexText(c)));
    if (vectors.length !== all.length) throw new GatewayError(502, `embedding returned ${vectors.length} vectors for ${all.length} chunks`, 'bad_embedding_response');
    await this.store.upsert(all.map((c, i) => ({ ...c, vector: vectors[i] as number[] })));
    let removed = 0;
    for (const p of pending) {
      if (existing.has(p.doc.id)) removed += await this.store.deleteDocument(p.doc.id, p.chunks.map((c) => c.id));
    }
    return { documents: results, chunksWritten: all.length, chunksRemoved: removed };
  }
}
