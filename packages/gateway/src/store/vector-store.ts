// The storage seam of the gateway (F-502): everything retrieval needs from a vector database, and nothing
// more, so a server-backed store (Qdrant, pgvector) can replace the embedded LanceDB one. Full-text search
// is optional: a store without it serves vector retrieval only.

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
  /** Page of the document the chunk is on, from 1 (paged formats such as PDF only). */
  page?: number;
  /** The document's title and tags (front matter, an HTML <title>, a PDF's info). */
  title?: string;
  tags?: string[];
  /** Hash of the whole document's content (and chunking settings) the chunk was cut from. */
  documentHash: string;
  /** Milliseconds since the epoch. */
  ingestedAt: number;
  vector: number[];
}

export type ChunkRecord = Omit<StoredChunk, 'vector'>;

export interface SearchHit {
  chunk: ChunkRecord;
  /** Higher is better: cosine similarity (1 = same direction) from `search`, BM25 from `searchText`. */
  score: number;
}

/** A part of a full-text query and how much its matches count (e.g. the question 1, earlier turns less). */
export interface WeightedText {
  text: string;
  weight: number;
}

export interface DocumentInfo {
  id: string;
  source: string;
  documentHash: string;
  chunks: number;
  ingestedAt: number;
  title?: string;
  tags?: string[];
}

export interface VectorStore {
  /** Inserts chunks, replacing any with the same id. */
  upsert(chunks: readonly StoredChunk[]): Promise<void>;
  /** The k chunks nearest to `vector`, best first. */
  search(vector: readonly number[], k: number): Promise<SearchHit[]>;
  /**
   * The k chunks that best match the words of the query (BM25 over each chunk's title, headings and text),
   * best first; chunks matching none of its words are not returned. Optional: without it, retrieval is
   * vector-only.
   */
  searchText?(query: readonly WeightedText[], k: number): Promise<SearchHit[]>;
  /** Removes a document's chunks (except the ids in `keep`); returns how many were removed. */
  deleteDocument(documentId: string, keep?: readonly string[]): Promise<number>;
  /** Chunks of one document, in position order, without vectors. */
  documentChunks(documentId: string): Promise<ChunkRecord[]>;
  listDocuments(): Promise<DocumentInfo[]>;
  /** Number of chunks stored. */
  count(): Promise<number>;
  close(): Promise<void>;
}
