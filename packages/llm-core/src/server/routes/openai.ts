// The OpenAI-compatible API (F-301): each route declares its zod schema (from @sage/common; fastify validates
// before the handler runs, and failures leave as OpenAI errors from the shared HTTP edge), turns the request into
// an InferenceRequest and hands it to the ControlPlaneManager, which queues, schedules and routes it. Prompts and inputs reach the engine as the caller sent them (lists, token ids), and
// usage is the engine's. Streaming answers are relayed as SSE; the caller going away aborts upstream.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ChatCompletionRequestSchema, CompletionRequestSchema, EmbeddingRequestSchema, SageError } from '@sage/common';
import { SseStream, type ZodTypeProvider } from '@sage/common/http';
import type { z } from 'zod';
import type { ControlPlaneManager, InferenceRequest, InferenceResult, InferenceStream, ResultSink } from '../../control-plane/manager';
import { chunkSourceOf, InvalidRequestError } from '../../control-plane/manager';
import { END, type ChunkSource } from '../../control-plane/executor';
import { RequestType, type ChatMessageLike, type CompletionPrompt, type SamplingParams } from '../../control-plane/types';
import { ClientAbortSignal } from '../client-abort';
import { readExtensions } from '../extensions';
import type { TokenClock } from '../prometheus';
import { clientRequestId } from '../request-id';
import type { ServerReadiness } from '../readiness';
import { RequestRejectedError } from '../../control-plane/manager';

/** What the routes report to /metrics besides request ends: the chunks of each stream. */
export interface StreamObserver {
  tokenClock(model: string | undefined, instanceId: string): TokenClock;
}

// Fields the route consumes itself; everything else in the body passes through to the engine.
const CONSUMED = new Set(['model', 'messages', 'prompt', 'input', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'stop', 'seed', 'n', 'stream', 'user', 'sage', 'session_id']);

type SharedLlmFields = Pick<z.infer<typeof CompletionRequestSchema>, 'model' | 'temperature' | 'top_p' | 'stop' | 'seed' | 'n' | 'user'> & { sage?: unknown; session_id?: unknown; [key: string]: unknown };

/** The body's fields the route does not consume, or undefined when there are none (most requests): no empty object. */
function passthrough(body: Record<string, unknown>): Record<string, unknown> | undefined {
  let extra: Record<string, unknown> | undefined;
  // for…in over the own keys rather than Object.entries: no [key, value] array per field per request.
  for (const k in body) {
    if (!Object.prototype.hasOwnProperty.call(body, k) || CONSUMED.has(k)) continue;
    const v = body[k];
    if (v !== undefined) (extra ??= {})[k] = v;
  }
  return extra;
}

/** The sampling of a request that sets none of its fields (most do not): one shared, frozen object. */
const NO_SAMPLING: SamplingParams = Object.freeze({ temperature: undefined, topP: undefined, stop: undefined, seed: undefined, n: undefined });

function samplingOf(body: SharedLlmFields): SamplingParams {
  const temperature = body.temperature ?? undefined;
  const topP = body.top_p ?? undefined;
  const stop = body.stop ?? undefined;
  const seed = body.seed ?? undefined;
  const n = body.n ?? undefined;
  if (temperature === undefined && topP === undefined && stop === undefined && seed === undefined && n === undefined) return NO_SAMPLING;
  return { temperature, topP, stop, seed, n };
}

/** The request's abort signal, kept on the response so its 'close' listener is one shared function, not a closure per request. */
const clientAbort = Symbol('sage.clientAbort');
type WithClientAbort = FastifyReply['raw'] & { [clientAbort]?: ClientAbortSignal };

function abortIfUnfinished(this: WithClientAbort): void {
  if (!this.writableFinished) this[clientAbort]?.abort(new Error('client disconnected'));
}

/**
 * An AbortSignal that fires when the client disconnects before the response is complete: one signal per request
 * (client-abort.ts; the response's 'close' comes for a connection lost at any point, and only once, so one listener
 * is enough).
 */
function clientGone(reply: FastifyReply): AbortSignal {
  const signal = new ClientAbortSignal();
  const res = reply.raw as WithClientAbort;
  res[clientAbort] = signal;
  res.on('close', abortIfUnfinished);
  return signal;
}

/**
 * Longest prompt accepted, in characters, checked before tokenizing so an oversized prompt costs nothing.
 * ~4 characters per token: 512k characters is far past any served model's context window.
 */
export const MAX_PROMPT_CHARS = 512 * 1024;
/** The same bound for token-id prompts and inputs, in ids. */
export const MAX_PROMPT_TOKEN_IDS = MAX_PROMPT_CHARS / 4;

/** Refuses an oversized prompt: its texts' characters and its token ids, summed over every prompt or input. */
function checkPromptSize(size: { chars: number; ids: number }, param: string): void {
  if (size.chars > MAX_PROMPT_CHARS) {
    throw new InvalidRequestError('context_length_exceeded', `the prompt is too long (${size.chars} characters; at most ${MAX_PROMPT_CHARS} are accepted)`, param);
  }
  if (size.ids > MAX_PROMPT_TOKEN_IDS) {
    throw new InvalidRequestError('context_length_exceeded', `the prompt is too long (${size.ids} token ids; at most ${MAX_PROMPT_TOKEN_IDS} are accepted)`, param);
  }
}

function messagesChars(messages: ReadonlyArray<{ content?: unknown }>): number {
  let n = 0;
  for (const m of messages) n += typeof m.content === 'string' ? m.content.length : JSON.stringify(m.content ?? '').length;
  return n;
}

/** Characters and token ids in a prompt or embedding input of any OpenAI form. */
function inputSize(input: CompletionPrompt): { chars: number; ids: number } {
  if (typeof input === 'string') return { chars: input.length, ids: 0 };
  let chars = 0;
  let ids = 0;
  for (const p of input as ReadonlyArray<string | number | number[]>) {
    if (typeof p === 'string') chars += p.length;
    else if (typeof p === 'number') ids += 1;
    else ids += p.length;
  }
  return { chars, ids };
}

/** Whether the caller asked for the usage chunk of a stream (the engine is always asked; see llmPayload). */
function wantsStreamUsage(body: Record<string, unknown>): boolean {
  const o = body.stream_options;
  return typeof o === 'object' && o !== null && (o as { include_usage?: unknown }).include_usage === true;
}

interface RelayOptions {
  /** Pass the engine's usage on to the caller (it asked with stream_options.include_usage). */
  includeUsage: boolean;
  observer?: StreamObserver;
}

/**
 * A stream's chunks relayed as they come: each one is taken from the stream and written in the same call that
 * received it from the engine (no promise per chunk), as the engine's own event text unless it is changed here.
 */
class SseRelay {
  private readonly clock: TokenClock | undefined;
  private resolve: (() => void) | undefined;

  constructor(
    private readonly stream: InferenceStream,
    private readonly source: ChunkSource,
    private readonly sse: SseStream,
    private readonly request: FastifyRequest,
    private readonly o: RelayOptions,
    model: string | undefined,
  ) {
    this.clock = o.observer?.tokenClock(model, stream.instanceId);
  }

  run(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.resolve = resolve;
      this.pump();
    });
  }

  /** Takes and sends every chunk in hand; then waits for the next one, or for a client that is behind. */
  private readonly pump = (): void => {
    try {
      for (;;) {
        if (!this.sse.open) {
          void this.source.close();
          return this.completed();
        }
        const chunk = this.source.take();
        if (chunk === undefined) return this.source.whenReady(this.pump);
        if (chunk === END) return this.completed();
        let raw = this.source.raw;
        const hasChoices = Array.isArray(chunk.choices) && chunk.choices.length > 0;
        if (!this.o.includeUsage && 'usage' in chunk) {
          // The usage chunk the engine was asked for; without the caller's request it is not theirs to see.
          if (!hasChoices) continue;
          delete chunk.usage;
          raw = undefined;
        }
        if (hasChoices) this.clock?.tick();
        // A client that reads slowly holds the engine's stream back instead of filling this process's memory.
        const behind = raw !== undefined ? this.sse.sendText(raw) : this.sse.send(chunk);
        if (behind) {
          void behind.then(this.pump);
          return;
        }
      }
    } catch (err) {
      this.failed(err);
    }
  };

  private completed(): void {
    if (!this.resolve) return;
    this.sse.done();
    // A stream that moved to another engine mid-way says so in its log line.
    if (this.stream.failovers?.length) this.request.log.info({ requestId: this.stream.requestId, failovers: this.stream.failovers }, 'stream completed after failover');
    this.settle();
  }

  private failed(err: unknown): void {
    if (!this.resolve) return;
    // Headers are gone: the failure travels as an error event, then the stream ends.
    this.sse.fail(err);
    this.request.log.warn({ err: (err as Error).message, requestId: this.stream.requestId, failovers: this.stream.failovers }, 'stream failed mid-way');
    this.settle();
  }

  /** The relay is over, once. */
  private settle(): void {
    const resolve = this.resolve;
    this.resolve = undefined;
    resolve?.();
  }
}

/** A JSON answer written into the reply, with the instances that served it in headers. */
function sendResult(reply: FastifyReply, result: InferenceResult): FastifyReply {
  if (result.prefillInstanceId) void reply.header('x-sage-prefill-instance', result.prefillInstanceId);
  void reply.header('x-sage-instance', result.instanceId);
  // The engine's JSON as it came: no parse-and-serialize round trip on the way out.
  return result.rawBody !== undefined ? reply.type('application/json; charset=utf-8').send(result.rawBody) : reply.send(result.body);
}

/**
 * Where the manager hands a non-streamed request's outcome (submitTo): the reply is written as it comes, as fastify
 * writes a handler promise's value or its rejection.
 */
class ReplySink implements ResultSink {
  constructor(private readonly reply: FastifyReply) {}

  answered(result: InferenceResult): void {
    try {
      sendResult(this.reply, result);
    } catch (err) {
      this.failed(err);
    }
  }

  failed(err: unknown): void {
    const reply = this.reply;
    if (reply.sent) {
      reply.log.error({ err }, 'request failed, but its reply was already sent');
      return;
    }
    const error = err instanceof Error ? err : new Error(String(err));
    try {
      reply.send(error);
    } catch (thrown) {
      // What the error handler itself throws is answered as fastify answers it for an async handler.
      reply.send(thrown as Error);
    }
  }
}

async function relay(manager: ControlPlaneManager, inference: InferenceRequest, request: FastifyRequest, reply: FastifyReply, o: RelayOptions): Promise<void> {
  // A refusal before the first chunk is an ordinary error answer (the error handler sends it).
  const stream: InferenceStream = await manager.submitStream(inference);
  // The request ids are on the reply already (request-id.ts); the SSE stream sends the reply's headers.
  if (stream.prefillInstanceId) void reply.header('x-sage-prefill-instance', stream.prefillInstanceId);
  // The stream opens with its first chunk in hand: the headers go out with it.
  const sse = new SseStream(reply.header('x-sage-instance', stream.instanceId), {}, { withFirstEvent: true });
  return new SseRelay(stream, chunkSourceOf(stream), sse, request, o, inference.model).run();
}

/**
 * A request for a model whose engine is still starting waits for it (bounded by the request timeout) instead of
 * being refused as unknown; when the wait runs out the answer is 503 with Retry-After, not 404.
 */
async function awaitModel(readiness: ServerReadiness | undefined, model: string | undefined, category: 'llm' | 'embedding', signal: AbortSignal): Promise<void> {
  if (!readiness) return;
  const outcome = await readiness.waitForModel(model, category, signal);
  if (outcome === 'timeout' && !signal.aborted) {
    throw new RequestRejectedError('engine_starting', `the engine serving ${model ?? category} is still starting; try again shortly`, undefined, 5);
  }
}

/** Embeddings are not streamed: a `stream` other than false is refused before the body is validated. */
async function refuseStreamedEmbeddings(request: FastifyRequest): Promise<void> {
  const raw = request.body as Record<string, unknown> | null;
  if (raw && typeof raw === 'object' && 'stream' in raw && raw.stream !== false && raw.stream !== undefined) {
    throw new SageError('embeddings cannot be streamed: remove "stream"', { status: 400, param: 'stream', code: 'unsupported_parameter' });
  }
}

export function registerOpenAIRoutes(scope: FastifyInstance, manager: ControlPlaneManager, readiness?: ServerReadiness, observer?: StreamObserver): void {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  /**
   * Chat and text completions as one request: what differs (type, messages or prompt, max tokens) comes in as
   * arguments so the request is built as one object, not spread from a shared part.
   */
  const llmRequest = (
    body: SharedLlmFields,
    request: FastifyRequest,
    reply: FastifyReply,
    type: InferenceRequest['type'],
    maxTokens: number | undefined,
    messages: ChatMessageLike[] | undefined,
    prompt: CompletionPrompt | undefined,
  ): InferenceRequest => {
    const ext = readExtensions(request.headers, body);
    return {
      id: request.id,
      clientRequestId: clientRequestId(request),
      type,
      messages,
      prompt,
      maxTokens,
      model: body.model,
      sampling: samplingOf(body),
      priority: ext.priority,
      sloDeadlineMs: ext.sloDeadlineMs,
      ttftDeadlineMs: ext.ttftDeadlineMs,
      userId: body.user ?? undefined,
      sessionId: ext.sessionId,
      extraBody: passthrough(body),
      signal: clientGone(reply),
    };
  };

  /**
   * Not async: the common case (a model served now, a JSON answer) hands the request to the manager with a sink
   * that writes the reply, and returns nothing (fastify waits for the reply): no promise, async frame or await per
   * request. A refusal at admission throws, and the error handler answers it as before.
   */
  const answer = (inference: InferenceRequest, body: SharedLlmFields & { stream?: boolean | null }, request: FastifyRequest, reply: FastifyReply): Promise<unknown> | undefined => {
    if (readiness?.servesNow?.(inference.model, 'llm') !== true) return answerOnceReady(inference, body, request, reply);
    if (body.stream) return relay(manager, inference, request, reply, { includeUsage: wantsStreamUsage(body), observer });
    manager.submitTo(inference, new ReplySink(reply));
    return undefined;
  };

  /** answer() for a model whose engine may still be starting: it waits for it first. */
  const answerOnceReady = async (inference: InferenceRequest, body: SharedLlmFields & { stream?: boolean | null }, request: FastifyRequest, reply: FastifyReply) => {
    await awaitModel(readiness, inference.model, 'llm', inference.signal as AbortSignal);
    if (body.stream) return relay(manager, inference, request, reply, { includeUsage: wantsStreamUsage(body), observer });
    return sendResult(reply, await manager.submit(inference));
  };

  // Not async: the answer's promise goes to fastify as it is, not wrapped in one more (a throw here is answered
  // by the error handler either way).
  app.post('/v1/chat/completions', { schema: { body: ChatCompletionRequestSchema } }, (request, reply) => {
    const body = request.body;
    checkPromptSize({ chars: messagesChars(body.messages), ids: 0 }, 'messages');
    const inference = llmRequest(body, request, reply, RequestType.LLM_CHAT, body.max_completion_tokens ?? body.max_tokens ?? undefined, body.messages as ChatMessageLike[], undefined);
    return answer(inference, body, request, reply);
  });

  app.post('/v1/completions', { schema: { body: CompletionRequestSchema } }, (request, reply) => {
    const body = request.body;
    // A list of prompts or token ids goes to the engine as sent: it answers every prompt (choice index =
    // prompt index × n + choice, as OpenAI numbers them) and counts the ids with its own tokenizer.
    checkPromptSize(inputSize(body.prompt), 'prompt');
    // OpenAI's completions default is 16 tokens.
    const inference = llmRequest(body, request, reply, RequestType.LLM_GENERATE, body.max_tokens ?? 16, undefined, body.prompt);
    return answer(inference, body, request, reply);
  });

  app.post('/v1/embeddings', { schema: { body: EmbeddingRequestSchema }, preValidation: refuseStreamedEmbeddings }, async (request, reply) => {
    const body = request.body;
    const ext = readExtensions(request.headers, body);
    checkPromptSize(inputSize(body.input), 'input');
    const signal = clientGone(reply);
    await awaitModel(readiness, body.model, 'embedding', signal);
    const result = await manager.submit({
      id: request.id,
      clientRequestId: clientRequestId(request),
      type: RequestType.EMBEDDING,
      model: body.model,
      input: body.input,
      priority: ext.priority,
      sloDeadlineMs: ext.sloDeadlineMs,
      userId: body.user ?? undefined,
      extraBody: passthrough(body),
      signal,
    });
    return reply.header('x-sage-instance', result.instanceId).send(result.body);
  });
}
