// IntelligentLLMClient (F-104): finds its endpoint by itself (or is told), speaks OpenAI's chat API through
// the official SDK, and passes sage priority / deadline hints that a control plane uses and engines ignore.
import type OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming, ChatCompletionCreateParamsStreaming, ChatCompletionChunk } from 'openai/resources/chat/completions';
import { detectEndpoint, type DetectOptions, type EndpointSource } from '../detection/detect';
import { APIError, LLMError, zodIssueToOpenAIError } from '../types/errors';
import { ChatMessageSchema, type ChatMessage, type SageExtension, type SagePriority } from '../types/openai';
import { RequestAbortedError, toAPIError } from '../http/retry';
import { EndpointClient, type AutoClientOptions, type EndpointClientConfig, type RequestOptions } from './endpoint-client';
import type { GenerationOptions } from './generation-options';
import { z } from 'zod';

export interface ChatOptions extends RequestOptions, GenerationOptions {
  /** Scheduling hint for a sage control plane (sent as x-sage-priority and `sage.priority`). */
  priority?: SagePriority;
  /** End-to-end deadline for a sage control plane (sent as x-sage-slo-ms and `sage.slo_deadline_ms`). */
  sloDeadlineMs?: number;
  /** Extra body fields passed through unchanged (e.g. `kv_transfer_params`). */
  extraBody?: Record<string, unknown>;
  /**
   * stream() only: asks the server for its token counts (`stream_options.include_usage`), which then appear
   * as `usage` in the ChatReply the stream returns. Off by default, as not every server accepts the field.
   */
  includeUsage?: boolean;
}

export interface DetectedConfig {
  baseUrl: string;
  modelName: string;
  apiKey: string | undefined;
  source: EndpointSource;
}

export type ChatInput = ReadonlyArray<ChatMessage>;

/** A reply with its metadata (see IntelligentLLMClient.complete). */
export interface ChatReply {
  text: string;
  /** 'stop', 'length', 'tool_calls', 'content_filter', … as the server reported it. */
  finishReason: string;
  /** Token counts when the server reported them. */
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  model: string;
}

// Wrapped in an object so that error paths read `messages.0.content`, as they would on the wire.
const MessagesSchema = z.object({ messages: z.array(ChatMessageSchema).min(1, 'messages must contain at least one message') });

function validateMessages(messages: unknown): ChatMessage[] {
  const parsed = MessagesSchema.safeParse({ messages });
  if (!parsed.success) throw new LLMError(zodIssueToOpenAIError(parsed.error).body.error.message);
  return parsed.data.messages;
}

/** Body fields and headers shared by chat and stream. */
function requestParts(model: string, messages: ChatMessage[], opts: ChatOptions) {
  const sage: SageExtension = {};
  const headers: Record<string, string> = {};
  if (opts.priority !== undefined) {
    sage.priority = opts.priority;
    headers['x-sage-priority'] = String(opts.priority);
  }
  if (opts.sloDeadlineMs !== undefined) {
    sage.slo_deadline_ms = opts.sloDeadlineMs;
    headers['x-sage-slo-ms'] = String(opts.sloDeadlineMs);
  }
  const body: Record<string, unknown> = {
    ...opts.extraBody,
    model: opts.model ?? model,
    messages,
    ...(opts.maxTokens !== undefined && { max_tokens: opts.maxTokens }),
    ...(opts.temperature !== undefined && { temperature: opts.temperature }),
    ...(opts.topP !== undefined && { top_p: opts.topP }),
    ...(opts.stop !== undefined && { stop: opts.stop }),
    ...(opts.seed !== undefined && { seed: opts.seed }),
    ...(Object.keys(sage).length > 0 && { sage }),
  };
  return { body, headers };
}

export class IntelligentLLMClient extends EndpointClient {
  constructor(config: EndpointClientConfig) {
    super('llm', config);
  }

  /** A client on the endpoint detection finds (explicit config, local probing, then DashScope). */
  static async createAuto(options: AutoClientOptions = {}): Promise<IntelligentLLMClient> {
    const { timeoutMs, retry, ...detect } = options;
    const endpoint = await detectEndpoint('llm', detect);
    const client = new IntelligentLLMClient({ baseUrl: endpoint.baseUrl, modelName: endpoint.modelName, apiKey: endpoint.apiKey, timeoutMs, retry });
    client.attachDetection(endpoint, detect);
    return client;
  }

  /** What createAuto would use, without creating a client. */
  static async detectConfig(options: DetectOptions = {}): Promise<DetectedConfig> {
    const e = await detectEndpoint('llm', options);
    return { baseUrl: e.baseUrl, modelName: e.modelName, apiKey: e.apiKey, source: e.source };
  }

  /** The assistant's reply to `messages`. */
  async chat(messages: ChatInput, opts: ChatOptions = {}): Promise<string> {
    return (await this.complete(messages, opts)).text;
  }

  /** Like chat, with what the server said about the reply: why it ended, token usage, the model that answered. */
  async complete(messages: ChatInput, opts: ChatOptions = {}): Promise<ChatReply> {
    const valid = validateMessages(messages);
    const completion = await this.run((sdk, signal) => {
      const { body, headers } = requestParts(this.modelName, valid, opts);
      return sdk.chat.completions.create(body as unknown as ChatCompletionCreateParamsNonStreaming, { signal, headers, maxRetries: 0 });
    }, opts);
    const choice = completion.choices?.[0];
    if (!choice) throw new APIError('the server returned a completion without choices', { code: 'empty_response', retryable: false });
    const u = completion.usage;
    return {
      text: choice.message?.content ?? '',
      finishReason: choice.finish_reason ?? 'stop',
      usage: u ? { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens, total_tokens: u.total_tokens } : undefined,
      model: completion.model ?? opts.model ?? this.modelName,
    };
  }

  /** Like chat; a bare string is sent as a single user message (works with chat-only providers). */
  generate(promptOrMessages: string | ChatInput, opts: ChatOptions = {}): Promise<string> {
    const messages: ChatInput = typeof promptOrMessages === 'string' ? [{ role: 'user', content: promptOrMessages }] : promptOrMessages;
    return this.chat(messages, opts);
  }

  /**
   * Text deltas of the reply, in order. Retries apply until the response starts; the call's deadline and
   * signal cover the whole stream. Breaking out of the loop closes the connection. When the stream ends,
   * the generator returns the whole reply as complete() would (`for await` ignores it; iterate with
   * next() to read it), with `usage` when the server sent it (see `includeUsage`).
   */
  async *stream(messages: ChatInput, opts: ChatOptions = {}): AsyncGenerator<string, ChatReply, undefined> {
    const valid = validateMessages(messages);
    let activeSignal: AbortSignal | undefined;
    const stream = await this.run((sdk: OpenAI, signal) => {
      activeSignal = signal;
      const { body, headers } = requestParts(this.modelName, valid, opts);
      if (opts.includeUsage) body.stream_options = { ...(body.stream_options as Record<string, unknown> | undefined), include_usage: true };
      return sdk.chat.completions.create({ ...body, stream: true } as unknown as ChatCompletionCreateParamsStreaming, { signal, headers, maxRetries: 0 });
    }, opts);
    let finished = false;
    let text = '';
    let finishReason = 'stop';
    let model: string | undefined;
    let usage: ChatReply['usage'];
    try {
      for await (const chunk of stream as AsyncIterable<ChatCompletionChunk>) {
        model ??= chunk.model || undefined;
        // The usage chunk comes last with `choices: []`; servers that count continuously send it on every
        // chunk, so the last one seen is the total.
        const u = chunk.usage;
        if (u) usage = { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens, total_tokens: u.total_tokens };
        const choice = chunk.choices?.[0];
        if (choice?.finish_reason) finishReason = choice.finish_reason;
        const delta = choice?.delta?.content;
        if (delta) {
          text += delta;
          yield delta;
        }
      }
      // The SDK ends iteration quietly when its signal fires; that must not look like a complete reply.
      if (opts.signal?.aborted) throw new RequestAbortedError(opts.signal.reason);
      if (activeSignal?.aborted) throw new APIError('stream timed out', { code: 'timeout', retryable: false });
      finished = true;
      return { text, finishReason, usage, model: model ?? opts.model ?? this.modelName };
    } catch (err) {
      if (err instanceof RequestAbortedError || err instanceof APIError) throw err;
      if (opts.signal?.aborted) throw new RequestAbortedError(err);
      if (activeSignal?.aborted) throw new APIError('stream timed out', { code: 'timeout', retryable: false, cause: err });
      throw toAPIError(err);
    } finally {
      if (!finished) stream.controller.abort(); // consumer stopped early or failed: release the connection
    }
  }
}
