// Public API of @sage/common (L1), grouped by what a consumer does. A name not listed here is internal (retry
// machinery, semaphores, probing heuristics): the package's own tests reach those by relative path.
// tests/api-report.test.ts keeps this list and api/exports.txt together.

// Call a model: clients that find an endpoint by themselves (explicit env → local probing → DashScope).
export { IntelligentLLMClient, type ChatOptions, type ChatInput, type ChatReply, type DetectedConfig } from './clients/llm-client';
export { IntelligentEmbeddingClient, DEFAULT_EMBEDDING_BATCH_SIZE, type EmbeddingClientConfig, type EmbedOptions } from './clients/embedding-client';
export type { EndpointClientConfig, AutoClientOptions, RequestOptions } from './clients/endpoint-client';
export type { GenerationOptions } from './clients/generation-options';
export type { RetryPolicy, CallOptions } from './http/retry';

// Find an endpoint: configuration from the environment, detection and its cache, one probe.
export { loadSageEnv, ConfigError, type SageEnv } from './config/env';
export { normalizeBaseUrl, serverRootUrl } from './config/base-url';
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
export { probeEndpoint, SAGE_CONTROL_PLANE_SERVICE, type ProbeResult, type ProbedModel } from './detection/probe';

// Providers: the Manager → Provider → ModelClient registry, and ordered failover across models.
export { ProviderManager, getManager, resetManager } from './providers/provider-manager';
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
export { ModelClient, type ModelConfig, type ModelChatRequest, type ModelCallOptions } from './providers/model-client';
export {
  LLMAggregator,
  LLMAggrator,
  AllModelsFailedError,
  type AggregatorConfig,
  type AggregatorModelSettings,
  type ModelFailure,
  type GenerateResult,
  type AggregatorGenerateOptions,
} from './providers/aggregator';

// Errors: the root every sage error extends (status, code), the typed client errors, and the OpenAI error body
// every sage server answers with. The HTTP edge itself (fastify) is the '@sage/common/http' entry.
export { SageError, type SageErrorInit } from './types/errors';
export { LLMError, ModelNotFoundError, ProviderNotFoundError, APIError, NoEndpointError, type DetectionCandidate } from './types/errors';
export { RequestAbortedError } from './http/retry';
export { openAIError, zodIssueToOpenAIError, type OpenAIErrorResult } from './types/errors';

// The OpenAI wire format (zod schemas and their types), with sage's scheduling extension.
export {
  SAGE_PRIORITY_NAMES,
  SagePrioritySchema,
  SageExtensionSchema,
  ChatContentPartSchema,
  ChatRoleSchema,
  ToolCallSchema,
  ChatMessageSchema,
  ChatCompletionRequestSchema,
  UsageSchema,
  ChatCompletionResponseSchema,
  ChatCompletionChunkSchema,
  CompletionRequestSchema,
  CompletionResponseSchema,
  CompletionChunkSchema,
  EmbeddingRequestSchema,
  EmbeddingUsageSchema,
  EmbeddingResponseSchema,
  ModelKindSchema,
  ModelSchema,
  ModelListSchema,
  OpenAIErrorBodySchema,
} from './types/openai';
export type {
  SagePriority,
  SageExtension,
  ChatContentPart,
  ChatRole,
  ToolCall,
  ChatMessage,
  ChatCompletionRequest,
  Usage,
  ChatCompletionResponse,
  ChatCompletionChunk,
  CompletionRequest,
  CompletionResponse,
  CompletionChunk,
  EmbeddingRequest,
  EmbeddingUsage,
  EmbeddingResponse,
  ModelKind,
  Model,
  ModelList,
  OpenAIErrorBody,
} from './types/openai';

// Tokens: the tokenizer (cl100k) for usage, scheduling estimates and batch budgets.
export { encodeTokens, decodeTokens, countTokens, countChatTokens, contentText } from './tokens/tokenizer';

// Deterministic helpers: a seeded PRNG and a stable text hash, for simulated engines, tests and benchmarks.
export { mulberry32, fnv1a32 } from './util/deterministic';
