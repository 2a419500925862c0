// Public API of @sage/sim-engines (L2): the built-in engines (F-215), grouped by what a consumer does.
// Most consumers only run the `sage-engine` bin; a name not listed here is internal (the package's own tests
// reach internals by relative path). tests/api-report.test.ts keeps this list and api/exports.txt together.

// Run an engine as a process: the bin's command line and the path of its compiled entry.
export { runSimEngineCli } from './cli';
export { SIM_ENGINE_MAIN } from './entry';

// Serve an engine in-process (a fastify app, not yet listening).
export { buildSimLlmApp, SIM_LLM_ROLES, type SimLlmApp, type SimLlmRole, type SimLlmServerOptions } from './llm/server';
export { buildSimEmbeddingApp, type SimEmbeddingApp, type SimEmbeddingServerOptions } from './embedding/server';

// The models behind them: the LLM engine's latency parameters and an offline run of them, the embedding cost model.
export { DEFAULT_ENGINE_MODEL_PARAMS, resolveEngineModelParams, type EngineModelParams } from './model/params';
export { simulate, type SimArrival, type SimOutcome, type SimReport } from './model/simulate';
export { DEFAULT_BATCH_COST_PARAMS, type BatchCostParams } from './embedding/batch-cost';
export { DEFAULT_EMBEDDING_DIMENSIONS } from './embedding/lexical-embedder';
