// ModelClient (F-107, seed 003's Client layer): one model behind one OpenAI-compatible endpoint.
// Validated requests and responses, the shared retry policy, a per-model concurrency limit, and one SDK
// instance per client so connections are reused (undici keep-alive).
import OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming, ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import { APIError, LLMError, zodIssueToOpenAIError } from '../types/errors';
import {
  ChatCompletionChunkSchema,
  ChatCompletionRequestSchema,
  ChatCompletionResponseSchema,
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  type ChatCompletionResponse,
} from '../types/openai';
import { RequestAbortedError, callSignal, toAPIError, withRetry } from '../http/retry';
import { Semaphore } from '../util/semaphore';

export interface ModelConfig {
  /** Name the model is registered under. */
  name: string;
  /** Model id sent upstream (default: `name`). */
  model?: string;
  baseUrl: string;
  apiKey?: string;
  /** Seconds per call, retries included (default 60). */
  timeout?: number;
  /** Retries after the first attempt (default 2). */
  maxRetries?: number;
  /** Calls in flight at once for this model (default 10); more wait their turn. */
  maxConcurrentCalls?: number;
}

/** A chat request for this client: `model` may be omitted (the client's model is used). */
export type ModelChatRequest = Omit<ChatCompletionRequest, 'model'> & { model?: string };

export interface ModelCallOptions {
  signal?: AbortSignal;
}

export class ModelClient {
  readonly config: Readonly<Required<Omit<ModelConfig, 'apiKey'>>> & { apiKey?: string };
  private readonly sdk: OpenAI;
  private readonly semaphore: Semaphore;
  private closed = false;

  constructor(config: ModelConfig) {
    if (!config.baseUrl) throw new LLMError(`model "${config.name}" has no baseUrl`);
    this.config = {
      name: config.name,
      model: config.model ?? config.name,
      baseUrl: config.baseUrl.replace(/\/+$/, ''),
      apiKey: config.apiKey,
      timeout: config.timeout ?? 60,
      maxRetries: config.maxRetries ?? 2,
      maxConcurrentCalls: config.maxConcurrentCalls ?? 10,
    };
    this.semaphore = new Semaphore(this.config.maxConcurrentCalls);
    this.sdk = new OpenAI({ baseURL: this.config.baseUrl, apiKey: config.apiKey || 'EMPTY', maxRetries: 0, timeout: this.config.timeout * 1000 });
  }

  get name(): string {
    return this.config.name;
  }
  /** Calls holding a concurrency permit right now. */
  get inFlight(): number {
    return this.semaphore.inUse;
  }

  private prepare(request: ModelChatRequest, stream: boolean): ChatCompletionRequest {
    if (this.closed) throw new LLMError(`client for model "${this.name}" is closed`);
    const parsed = ChatCompletionRequestSchema.safeParse({ ...request, model: this.config.model, stream });
    if (!parsed.success) throw new LLMError(zodIssueToOpenAIError(parsed.error).body.error.message);
    return parsed.data;
  }

  private callOptions(opts: ModelCallOptions) {
    return { signal: opts.signal, timeoutMs: this.config.timeout * 1000, retry: { maxAttempts: this.config.maxRetries + 1 } };
  }

  async chatCompletion(request: ModelChatRequest, opts: ModelCallOptions = {}): Promise<ChatCompletionResponse> {
    const body = this.prepare(request, false);
    const release = await this.semaphore.acquire(opts.signal);
    try {
      const raw = await withRetry(
        (signal) => this.sdk.chat.completions.create(body as unknown as ChatCompletionCreateParamsNonStreaming, { signal, maxRetries: 0 }),
        this.callOptions(opts),
      );
      const parsed = ChatCompletionResponseSchema.safeParse(raw);
      if (!parsed.success) throw new APIError(`model "${this.name}" returned a malformed chat completion`, { code: 'bad_response', retryable: false });
      return parsed.data;
    } finally {
      release();
    }
  }

  /** Chunks of a streamed completion. The concurrency permit is held until the stream ends or is abandoned. */
  async *chatCompletionStream(request: ModelChatRequest, opts: ModelCallOptions = {}): AsyncGenerator<ChatCompletionChunk, void, undefined> {
    const body = this.prepare(request, true);
    const release = await this.semaphore.acquire(opts.signal);
    const call = callSignal({ signal: opts.signal, timeoutMs: this.config.timeout * 1000 });
    let stream: Awaited<ReturnType<typeof this.openStream>> | undefined;
    let finished = false;
    try {
      stream = await withRetry(() => this.openStream(body, call.signal), { ...this.callOptions(opts), signal: call.signal });
      for await (const chunk of stream) {
        const parsed = ChatCompletionChunkSchema.safeParse(chunk);
        if (!parsed.success) throw new APIError(`model "${this.name}" sent a malformed stream chunk`, { code: 'bad_response', retryable: false });
        yield parsed.data;
      }
      // The SDK ends iteration quietly when its signal fires; that must not look like a complete stream.
      if (call.signal.aborted) throw call.signal.reason;
      finished = true;
    } catch (err) {
      if (err instanceof APIError && !call.signal.aborted) throw err;
      if (call.userAborted()) throw new RequestAbortedError(err);
      if (call.timedOut()) throw new APIError(`stream from model "${this.name}" timed out`, { code: 'timeout', retryable: false, cause: err });
      throw toAPIError(err);
    } finally {
      if (!finished) stream?.controller.abort();
      release();
    }
  }

  private openStream(body: ChatCompletionRequest, signal: AbortSignal) {
    return this.sdk.chat.completions.create({ ...body, stream: true } as unknown as ChatCompletionCreateParamsStreaming, { signal, maxRetries: 0 });
  }

  /** True when the endpoint answers GET /models within `timeoutMs`. */
  async healthCheck(timeoutMs = 5_000): Promise<boolean> {
    try {
      await this.sdk.models.list({ signal: AbortSignal.timeout(timeoutMs), maxRetries: 0, timeout: timeoutMs });
      return true;
    } catch {
      return false;
    }
  }

  /** New calls are refused; calls in flight finish. */
  close(): void {
    this.closed = true;
  }
}
