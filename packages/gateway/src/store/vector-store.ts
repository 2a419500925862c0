// The storage seam of the gateway (F-502): everything retrieval needs from a vector database, and nothing
// more, so a server-backed store (Qdrant, pgvector) can replace the embedded LanceDB one.

/** One stored chunk of a document, with its embedding. */
export interface StoredChunk {
  /** Stable id: the same document, position and text always give the same id. */
  id: string;
  documentId: string;
  /** Where the document came from (an absolute file path, or what the caller said). */
  source: string;
  /** Order of the chunk within its document, from 0. */
  position: number;
  /** Headings above the chunk, outermost first (empty for plain text). */
  headingPath: string[];
  text: string;
  /** Hash of the whole document's content (and chunking settings) the chunk was cut from. */
  documentHash: string;
  /** Milliseconds since the epoch. */
  ingestedAt: number;
  vector: number[];
}

export type ChunkRecord = Omit<StoredChunk, 'vector'>;

export interface SearchHit {
  chunk: ChunkRecord;
  /** Cosine similarity, higher is closer (1 = same direction). */
  score: number;
}

export interface DocumentInfo {
  id: string;
  source: string;
  documentHash: string;
  chunks: number;
  ingestedAt: number;
}

export interface VectorStore {
  /** Inserts chunks, replacing any with the same id. */
  upsert(chunks: readonly StoredChunk[]): Promise<void>;
  /** The k chunks nearest to `vector`, best first. */
  search(vector: readonly number[], k: number): Promise<SearchHit[]>;
  /** Removes a document's chunks (except the ids in `keep`); returns how many were removed. */
  deleteDocument(documentId: string, keep?: readonly string[]): Promise<number>;
  /** Chunks of one document, in position order, without vectors. */
  documentChunks(documentId: string): Promise<ChunkRecord[]>;
  listDocuments(): Promise<DocumentInfo[]>;
  /** Number of chunks stored. */
  count(): Promise<number>;
  close(): Promise<void>;
}
