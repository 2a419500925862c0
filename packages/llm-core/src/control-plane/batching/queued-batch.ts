// A batch the EmbeddingBatcher formed travels the queue as one request. The batcher is the one owner of what goes
// together (model, options, texts and token limits); scheduling policies ask this module which batch a queued
// embedding request is, and never form batches of their own.
import type { RequestMetadata } from '../types';
import type { EmbeddingBatch } from './embedding-batcher';

/** What the batcher decided about a queued request: its batch's id and how many callers it carries. */
export interface QueuedBatch {
  id: string;
  members: number;
}

/** The tags that mark a queued request as a batch (set where the batch is queued). */
export function batchTags(batch: Pick<EmbeddingBatch, 'id' | 'members'>): Record<string, string> {
  return { batch: batch.id, members: String(batch.members.length) };
}

/** The batch a queued request is, when the batcher formed it (undefined for any other request). */
export function queuedBatchOf(request: Pick<RequestMetadata, 'tags'>): QueuedBatch | undefined {
  const id = request.tags?.batch;
  if (id === undefined) return undefined;
  return { id, members: Number(request.tags?.members ?? 1) };
}
