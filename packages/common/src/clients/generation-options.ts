// The per-call generation parameters every sage client takes (camelCase here; sent as OpenAI's model,
// max_tokens, temperature, top_p, stop and seed). Defined once so the clients of @sage/common, LLMAggregator
// (AggregatorGenerateOptions, without `model`) and the unified client of @sage/llm-core accept the same options.
export interface GenerationOptions {
  /** Overrides the client's model for this call. */
  model?: string;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string | string[];
  seed?: number;
}
