export { EmbeddingBatcher } from './embedding-batcher';
export { batchTags, queuedBatchOf, type QueuedBatch } from './queued-batch';
export type {
  EmbeddingInput,
  EmbeddingBatchOptions,
  EmbeddingMember,
  EmbeddingBatch,
  EmbeddingBatchOutput,
  EmbeddingMemberResult,
  EmbeddingBatchDispatcher,
} from './embedding-batcher';
