// zod wire schemas for OpenAI's API as the official SDK sends and receives it (F-109).
// Requests are loose objects: fields we do not model (vendor extensions such as `kv_transfer_params`,
// `sage`, engine-specific sampling knobs) must survive validation and reach the engine unchanged.
// Responses are loose too: engines add fields (vLLM's `prompt_logprobs`, `kv_transfer_params`, ...).
import { z } from 'zod';

const nonNegInt = z.number().int().nonnegative();

// ---------------------------------------------------------------- sage extension

/** Priority names of the control plane (F-201), case-insensitive on the wire, or their numeric rank 0..4. */
export const SAGE_PRIORITY_NAMES = ['critical', 'high', 'normal', 'low', 'background'] as const;
export const SagePrioritySchema = z.union([
  z.enum([...SAGE_PRIORITY_NAMES, 'CRITICAL', 'HIGH', 'NORMAL', 'LOW', 'BACKGROUND']),
  z.number().int().min(0).max(4),
]);
export type SagePriority = z.infer<typeof SagePrioritySchema>;

/** `sage: { priority, slo_deadline_ms }` body extension, also sent as x-sage-priority / x-sage-slo-ms headers. */
export const SageExtensionSchema = z.looseObject({
  priority: SagePrioritySchema.optional(),
  slo_deadline_ms: z.number().positive().optional(),
});
export type SageExtension = z.infer<typeof SageExtensionSchema>;

// ---------------------------------------------------------------- chat messages

/** One part of a multi-part message content. Text parts are checked; other kinds (image_url, input_audio, file) pass. */
export const ChatContentPartSchema = z
  .looseObject({ type: z.string().min(1), text: z.string().optional() })
  .refine((p) => p.type !== 'text' || typeof p.text === 'string', {
    message: 'a content part of type "text" needs a string "text"',
    path: ['text'],
  });
export type ChatContentPart = z.infer<typeof ChatContentPartSchema>;

export const ChatRoleSchema = z.enum(['system', 'user', 'assistant', 'tool', 'developer']);
export type ChatRole = z.infer<typeof ChatRoleSchema>;

export const ToolCallSchema = z.looseObject({
  id: z.string(),
  type: z.literal('function'),
  function: z.looseObject({ name: z.string(), arguments: z.string() }),
});
export type ToolCall = z.infer<typeof ToolCallSchema>;

export const ChatMessageSchema = z
  .looseObject({
    role: ChatRoleSchema,
    content: z.union([z.string(), z.array(ChatContentPartSchema), z.null()]).optional(),
    name: z.string().optional(),
    tool_calls: z.array(ToolCallSchema).optional(),
    tool_call_id: z.string().optional(),
  })
  .superRefine((m, ctx) => {
    // Only an assistant message may omit its content (when it carries tool calls or a refusal).
    if ((m.content === undefined || m.content === null) && m.role !== 'assistant') {
      ctx.addIssue({ code: 'custom', path: ['content'], message: `a "${m.role}" message needs "content" (a string or an array of content parts)` });
    }
    if (m.role === 'tool' && !m.tool_call_id) {
      ctx.addIssue({ code: 'custom', path: ['tool_call_id'], message: 'a "tool" message needs "tool_call_id"' });
    }
  });
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

// ---------------------------------------------------------------- shared request fields

const StopSchema = z.union([z.string(), z.array(z.string()).max(4)]).nullable();

const samplingFields = {
  model: z.string().min(1, 'model must be a non-empty string'),
  max_tokens: nonNegInt.nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  n: z.number().int().min(1).nullable().optional(),
  stop: StopSchema.optional(),
  seed: z.number().int().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  presence_penalty: z.number().min(-2).max(2).nullable().optional(),
  frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
  logit_bias: z.record(z.string(), z.number()).nullable().optional(),
  user: z.string().optional(),
  sage: SageExtensionSchema.optional(),
};

// ---------------------------------------------------------------- chat completions

export const ChatCompletionRequestSchema = z.looseObject({
  ...samplingFields,
  messages: z.array(ChatMessageSchema).min(1, 'messages must contain at least one message'),
  max_completion_tokens: nonNegInt.nullable().optional(),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
  response_format: z.looseObject({ type: z.string() }).optional(),
  tools: z.array(z.looseObject({ type: z.string() })).optional(),
  tool_choice: z.union([z.string(), z.looseObject({ type: z.string() })]).optional(),
  parallel_tool_calls: z.boolean().optional(),
});
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequestSchema>;

export const UsageSchema = z.looseObject({
  prompt_tokens: nonNegInt,
  completion_tokens: nonNegInt,
  total_tokens: nonNegInt,
});
export type Usage = z.infer<typeof UsageSchema>;

const FinishReasonSchema = z.string().nullable(); // 'stop' | 'length' | 'tool_calls' | 'content_filter' | engine-specific

export const ChatCompletionResponseSchema = z.looseObject({
  id: z.string(),
  object: z.literal('chat.completion'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.looseObject({
      index: nonNegInt,
      message: z.looseObject({
        role: z.literal('assistant'),
        content: z.string().nullable(),
        tool_calls: z.array(ToolCallSchema).optional(),
        refusal: z.string().nullable().optional(),
      }),
      finish_reason: FinishReasonSchema,
      logprobs: z.unknown().optional(),
    }),
  ),
  usage: UsageSchema.optional(),
  system_fingerprint: z.string().nullable().optional(),
});
export type ChatCompletionResponse = z.infer<typeof ChatCompletionResponseSchema>;

export const ChatCompletionChunkSchema = z.looseObject({
  id: z.string(),
  object: z.literal('chat.completion.chunk'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.looseObject({
      index: nonNegInt,
      delta: z.looseObject({
        role: ChatRoleSchema.optional(),
        content: z.string().nullable().optional(),
        tool_calls: z.array(z.looseObject({ index: nonNegInt })).optional(),
      }),
      finish_reason: FinishReasonSchema.optional(),
      logprobs: z.unknown().optional(),
    }),
  ),
  // Present (and `choices` empty) on the final chunk when stream_options.include_usage is set.
  usage: UsageSchema.nullable().optional(),
});
export type ChatCompletionChunk = z.infer<typeof ChatCompletionChunkSchema>;

// ---------------------------------------------------------------- legacy completions

const TokenIdsSchema = z.array(z.number().int().nonnegative());

export const CompletionRequestSchema = z.looseObject({
  ...samplingFields,
  prompt: z.union([z.string(), z.array(z.string()), TokenIdsSchema, z.array(TokenIdsSchema)]),
  echo: z.boolean().nullable().optional(),
  suffix: z.string().nullable().optional(),
  logprobs: z.number().int().min(0).max(5).nullable().optional(),
  best_of: z.number().int().min(1).nullable().optional(),
});
export type CompletionRequest = z.infer<typeof CompletionRequestSchema>;

const CompletionChoiceSchema = z.looseObject({
  index: nonNegInt,
  text: z.string(),
  logprobs: z.unknown().nullable().optional(),
  finish_reason: FinishReasonSchema,
});

export const CompletionResponseSchema = z.looseObject({
  id: z.string(),
  object: z.literal('text_completion'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(CompletionChoiceSchema),
  usage: UsageSchema.optional(),
  system_fingerprint: z.string().nullable().optional(),
});
export type CompletionResponse = z.infer<typeof CompletionResponseSchema>;

/** Streamed legacy completions use the same object name as the full response; finish_reason is null until the end. */
export const CompletionChunkSchema = z.looseObject({
  id: z.string(),
  object: z.literal('text_completion'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(CompletionChoiceSchema.extend({ finish_reason: FinishReasonSchema.optional() })),
  usage: UsageSchema.nullable().optional(),
});
export type CompletionChunk = z.infer<typeof CompletionChunkSchema>;

// ---------------------------------------------------------------- embeddings

export const EmbeddingRequestSchema = z.looseObject({
  model: z.string().min(1, 'model must be a non-empty string'),
  input: z.union([
    z.string(),
    z.array(z.string()).min(1, 'input must not be an empty array'),
    TokenIdsSchema.min(1, 'input must not be an empty array'),
    z.array(TokenIdsSchema.min(1, 'a token array in input must not be empty')).min(1, 'input must not be an empty array'),
  ]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().positive().optional(),
  user: z.string().optional(),
  sage: SageExtensionSchema.optional(),
});
export type EmbeddingRequest = z.infer<typeof EmbeddingRequestSchema>;

export const EmbeddingUsageSchema = z.looseObject({ prompt_tokens: nonNegInt, total_tokens: nonNegInt });
export type EmbeddingUsage = z.infer<typeof EmbeddingUsageSchema>;

export const EmbeddingResponseSchema = z.looseObject({
  object: z.literal('list'),
  data: z.array(
    z.looseObject({
      object: z.literal('embedding'),
      index: nonNegInt,
      // number[] for encoding_format 'float'; a base64 string of little-endian float32 for 'base64'.
      embedding: z.union([z.array(z.number()), z.string()]),
    }),
  ),
  model: z.string(),
  usage: EmbeddingUsageSchema,
});
export type EmbeddingResponse = z.infer<typeof EmbeddingResponseSchema>;

// ---------------------------------------------------------------- models

/** What kind of work a model serves. A sage control plane and sage engines say so in `sage_kind`. */
export const ModelKindSchema = z.enum(['llm', 'embedding']);
export type ModelKind = z.infer<typeof ModelKindSchema>;

export const ModelSchema = z.looseObject({
  id: z.string(),
  object: z.literal('model'),
  created: z.number().int().optional(),
  owned_by: z.string().optional(),
  sage_kind: ModelKindSchema.optional(),
});
export type Model = z.infer<typeof ModelSchema>;

export const ModelListSchema = z.looseObject({
  object: z.literal('list'),
  data: z.array(ModelSchema),
});
export type ModelList = z.infer<typeof ModelListSchema>;

// ---------------------------------------------------------------- errors

export const OpenAIErrorBodySchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string().nullable(),
  }),
});
export type OpenAIErrorBody = z.infer<typeof OpenAIErrorBodySchema>;
