// Parameters of the simulated continuously batching GPU engine (sim-llm). Defaults describe a 7B model
// in fp16 on one 80 GB GPU served by vLLM; the package README explains each one.

export interface EngineModelParams {
  /** Prompt tokens the GPU prefills per second when a whole step is spent on prefill. */
  prefillTokensPerSecond: number;
  /** Chunked-prefill token budget of one step (vLLM's max_num_batched_tokens); decode tokens count against it too. */
  maxBatchedTokens: number;
  /** Fixed cost of one engine step with any work in it (kernel launches, sampling, weights read once), ms. */
  decodeBaseMs: number;
  /** Extra step time per sequence decoding in the step (attention over its KV cache), ms. */
  decodePerSeqMs: number;
  /** Maximum sequences running at once (vLLM's max_num_seqs); the rest wait in FIFO order. */
  maxRunningSeqs: number;
  /** KV-cache capacity in blocks; a sequence holds ceil(tokens / blockSize) blocks. */
  kvCacheBlocks: number;
  /** Tokens per KV-cache block. */
  blockSize: number;
  /** Reuse KV blocks of identical prompt prefixes (hashed per full block, LRU eviction). */
  enablePrefixCaching: boolean;
  /** Context window: prompt + max_tokens may not exceed it. */
  maxModelLen: number;
  /** Wall-clock seconds per model second: 0.1 runs the same model ten times faster. */
  timeScale: number;
}

export const DEFAULT_ENGINE_MODEL_PARAMS: Readonly<EngineModelParams> = Object.freeze({
  prefillTokensPerSecond: 10_000,
  maxBatchedTokens: 2048,
  decodeBaseMs: 15,
  decodePerSeqMs: 0.12,
  maxRunningSeqs: 256,
  kvCacheBlocks: 7_500, // ~120k tokens: 60 GB of fp16 KV at 0.5 MB per token for a 32-layer, 4096-wide model
  blockSize: 16,
  enablePrefixCaching: true,
  maxModelLen: 8192,
  timeScale: 1,
});

/** Defaults overridden by the given values, checked so that the model cannot divide by zero or stall. */
export function resolveEngineModelParams(overrides: Partial<EngineModelParams> = {}): EngineModelParams {
  const p: EngineModelParams = { ...DEFAULT_ENGINE_MODEL_PARAMS };
  for (const [k, v] of Object.entries(overrides) as [keyof EngineModelParams, unknown][]) {
    if (v !== undefined) (p as unknown as Record<string, unknown>)[k] = v;
  }
  const positive: (keyof EngineModelParams)[] = ['prefillTokensPerSecond', 'maxBatchedTokens', 'maxRunningSeqs', 'kvCacheBlocks', 'blockSize', 'maxModelLen', 'timeScale'];
  for (const k of positive) {
    const v = p[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new RangeError(`engine model parameter ${k} must be a positive number (got ${String(v)})`);
  }
  for (const k of ['decodeBaseMs', 'decodePerSeqMs'] as const) {
    if (!Number.isFinite(p[k]) || p[k] < 0) throw new RangeError(`engine model parameter ${k} must be a non-negative number (got ${p[k]})`);
  }
  for (const k of ['maxBatchedTokens', 'maxRunningSeqs', 'kvCacheBlocks', 'blockSize', 'maxModelLen'] as const) {
    if (!Number.isInteger(p[k])) throw new RangeError(`engine model parameter ${k} must be an integer (got ${p[k]})`);
  }
  return p;
}
