export { EmbeddingBatcher } from './embedding-batcher';
export type {
  EmbeddingInput,
  EmbeddingBatchOptions,
  EmbeddingMember,
  EmbeddingBatch,
  EmbeddingBatchOutput,
  EmbeddingMemberResult,
  EmbeddingBatchDispatcher,
} from './embedding-batcher';
