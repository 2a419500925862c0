export { EmbeddingBatcher } from './embedding-batcher';
export type {
  EmbeddingBatchOptions,
  EmbeddingMember,
  EmbeddingBatch,
  EmbeddingBatchOutput,
  EmbeddingMemberResult,
  EmbeddingBatchDispatcher,
} from './embedding-batcher';
