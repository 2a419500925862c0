// Public API of @sage/sim-engines (L2): the built-in engines (F-215).
export { DEFAULT_ENGINE_MODEL_PARAMS, resolveEngineModelParams, type EngineModelParams } from './model/params';
export { BatchScheduler, type SeqSpec, type StepPlan, type StepResult, type TokenEvent, type SchedulerStats } from './model/scheduler';
export { KvBlockPool } from './model/kv-cache';
export { promptBlockHashes } from './model/prefix-hash';
export { simulate, type SimArrival, type SimOutcome, type SimReport } from './model/simulate';
export { EngineLoop, type SeqListener } from './model/engine-loop';
export { buildAnswer, type Answer, type AnswerRequest } from './text/answer';
export { extractiveAnswer } from './text/extractive';
export { chatPromptParts, splitMarkedContext, type PromptParts } from './text/prompt-parts';
export { DEFAULT_EMBEDDING_DIMENSIONS, embedText, cosineSimilarity, embeddingToBase64, embeddingFromBase64, lexicalFeatures } from './embedding/lexical-embedder';
export { DEFAULT_BATCH_COST_PARAMS, batchCostMs, BatchQueue, type BatchCostParams } from './embedding/batch-cost';
export { buildSimLlmApp, SIM_LLM_ROLES, type SimLlmApp, type SimLlmRole, type SimLlmServerOptions } from './llm/server';
export { KvTransferParamsSchema, type KvTransferParams } from './llm/schemas';
export { buildSimEmbeddingApp, type SimEmbeddingApp, type SimEmbeddingServerOptions } from './embedding/server';
export { runSimEngineCli } from './cli';
export { SIM_ENGINE_MAIN } from './entry';
