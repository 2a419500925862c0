// Public API of @sage/common (L1). Everything a consumer may use is exported here, and only here.
export { encodeTokens, decodeTokens, countTokens, countChatTokens, contentText } from './tokens/tokenizer';
export * from './types/openai';
export * from './types/errors';
export { loadSageEnv, normalizeBaseUrl, ConfigError, type SageEnv } from './config/env';
export {
  detectEndpoint,
  invalidateDetection,
  clearDetectionCache,
  DASHSCOPE_BASE_URL,
  DASHSCOPE_CHAT_MODEL,
  DASHSCOPE_EMBEDDING_MODEL,
  DEFAULT_HOSTS,
  DEFAULT_LLM_PORTS,
  DEFAULT_EMBEDDING_PORTS,
  DEFAULT_PROBE_TIMEOUT_MS,
  DEFAULT_DETECTION_TTL_MS,
  type DetectedEndpoint,
  type DetectOptions,
  type EndpointPurpose,
  type EndpointSource,
} from './detection/detect';
export { probeEndpoint, looksLikeEmbeddingModel, SAGE_CONTROL_PLANE_SERVICE, type ProbeResult, type ProbedModel } from './detection/probe';
export {
  withRetry,
  toAPIError,
  parseRetryAfter,
  isRetryableStatus,
  isConnectionError,
  RequestAbortedError,
  DEFAULT_RETRY_POLICY,
  DEFAULT_TIMEOUT_MS,
  type RetryPolicy,
  type CallOptions,
} from './http/retry';
export { Semaphore } from './util/semaphore';
export type { EndpointClientConfig, AutoClientOptions, RequestOptions } from './clients/endpoint-client';
export { IntelligentLLMClient, type ChatOptions, type ChatInput, type ChatReply, type DetectedConfig } from './clients/llm-client';
export type { GenerationOptions } from './clients/generation-options';
export { IntelligentEmbeddingClient, DEFAULT_EMBEDDING_BATCH_SIZE, type EmbeddingClientConfig, type EmbedOptions } from './clients/embedding-client';
export { ModelClient, type ModelConfig, type ModelChatRequest, type ModelCallOptions } from './providers/model-client';
export {
  Provider,
  OpenAIProvider,
  DeepSeekProvider,
  DashScopeProvider,
  OpenAICompatibleProvider,
  VLLMProvider,
  BUILTIN_PROVIDERS,
  type ProviderOptions,
  type ProviderModelSettings,
  type ModelAvailability,
} from './providers/provider';
export { ProviderManager, getManager, resetManager } from './providers/manager';
export {
  LLMAggregator,
  LLMAggrator,
  AllModelsFailedError,
  type AggregatorConfig,
  type AggregatorModelSettings,
  type ModelFailure,
  type GenerateResult,
  type GenerateOptions,
} from './providers/aggregator';
