// A fixed order for chunks that rank the same, so that equal scores never make results vary from run to run.
import type { ChunkRecord } from './vector-store';

/** By source, then position in the document (then id): the order of the chunks in a listing of the documents. */
export function documentOrder(a: ChunkRecord, b: ChunkRecord): number {
  if (a.source !== b.source) return a.source < b.source ? -1 : 1;
  if (a.position !== b.position) return a.position - b.position;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
