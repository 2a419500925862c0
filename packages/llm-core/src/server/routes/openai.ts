// The OpenAI-compatible API (F-301): every request is validated at the route (zod schemas from
// @sage/common), turned into an InferenceRequest and handed to the ControlPlaneManager, which queues,
// schedules and routes it. Streaming answers are relayed as SSE; the caller going away aborts upstream.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  ChatCompletionRequestSchema,
  CompletionRequestSchema,
  EmbeddingRequestSchema,
  decodeTokens,
  openAIError,
  zodIssueToOpenAIError,
} from '@sage/common';
import type { z } from 'zod';
import type { ControlPlaneManager, InferenceRequest, InferenceStream } from '../../control-plane/manager';
import { InvalidRequestError } from '../../control-plane/manager';
import { RequestType, InstanceType, type ChatMessageLike } from '../../control-plane/types';
import { readExtensions } from '../extensions';
import { sendError, toOpenAIError } from '../errors';
import { openSse } from '../sse';
import type { ServerReadiness } from '../readiness';
import { RequestRejectedError } from '../../control-plane/manager';

// Fields the route consumes itself; everything else in the body passes through to the engine.
const CONSUMED = new Set(['model', 'messages', 'prompt', 'input', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'stop', 'seed', 'n', 'stream', 'user', 'sage', 'session_id']);

type SharedLlmFields = Pick<z.infer<typeof CompletionRequestSchema>, 'model' | 'temperature' | 'top_p' | 'stop' | 'seed' | 'n' | 'user'> & { sage?: unknown; session_id?: unknown; [key: string]: unknown };

function passthrough(body: Record<string, unknown>): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (!CONSUMED.has(k) && v !== undefined) extra[k] = v;
  return extra;
}

function parse<S extends z.ZodType>(schema: S, body: unknown, reply: FastifyReply): z.infer<S> | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    void reply.code(400).send(openAIError(400, 'request body must be a JSON object', { code: 'invalid_request' }).body);
    return undefined;
  }
  const r = schema.safeParse(body);
  if (!r.success) {
    const e = zodIssueToOpenAIError(r.error);
    void reply.code(e.status).send(e.body);
    return undefined;
  }
  return r.data;
}

/** An AbortSignal that fires when the client disconnects before the response is complete. */
function clientGone(request: FastifyRequest, reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) ac.abort(new Error('client disconnected'));
  });
  request.raw.on('aborted', () => ac.abort(new Error('client disconnected')));
  return ac.signal;
}

/**
 * Longest prompt accepted, in characters, checked before tokenizing so an oversized prompt costs nothing.
 * ~4 characters per token: 512k characters is far past any served model's context window.
 */
export const MAX_PROMPT_CHARS = 512 * 1024;

function checkPromptSize(chars: number, param: string): void {
  if (chars > MAX_PROMPT_CHARS) {
    throw new InvalidRequestError('context_length_exceeded', `the prompt is too long (${chars} characters; at most ${MAX_PROMPT_CHARS} are accepted)`, param);
  }
}

function messagesChars(messages: ReadonlyArray<{ content?: unknown }>): number {
  let n = 0;
  for (const m of messages) n += typeof m.content === 'string' ? m.content.length : JSON.stringify(m.content ?? '').length;
  return n;
}

function promptText(prompt: unknown): string {
  if (typeof prompt === 'string') return prompt;
  if (Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] === 'string') return prompt[0];
  if (Array.isArray(prompt) && prompt.every((t) => typeof t === 'number')) return decodeTokens(prompt as number[]);
  if (Array.isArray(prompt) && prompt.length === 1 && Array.isArray(prompt[0])) return decodeTokens(prompt[0] as number[]);
  throw new InvalidRequestError('unsupported_value', 'only one prompt per request is supported: send a string, a one-element array or one token array', 'prompt');
}

function embeddingTexts(input: unknown): string[] {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.every((t) => typeof t === 'string')) return input as string[];
  if (Array.isArray(input) && input.every((t) => typeof t === 'number')) return [decodeTokens(input as number[])];
  if (Array.isArray(input) && input.every((t) => Array.isArray(t))) return (input as number[][]).map((t) => decodeTokens(t));
  throw new InvalidRequestError('invalid_value', "'input' must be a string, an array of strings, a token array or an array of token arrays", 'input');
}

async function relay(manager: ControlPlaneManager, inference: InferenceRequest, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  let stream: InferenceStream;
  try {
    stream = await manager.submitStream(inference);
  } catch (err) {
    void sendError(reply, err);
    return;
  }
  const sse = openSse(reply, {
    'x-sage-request-id': stream.requestId,
    'x-sage-instance': stream.instanceId,
    ...(stream.prefillInstanceId ? { 'x-sage-prefill-instance': stream.prefillInstanceId } : {}),
  });
  try {
    for await (const chunk of stream) {
      if (sse.closed) break;
      sse.data(chunk);
    }
    sse.done();
    // A stream that moved to another engine mid-way says so in its log line.
    if (stream.failovers?.length) request.log.info({ requestId: stream.requestId, failovers: stream.failovers }, 'stream completed after failover');
  } catch (err) {
    // Headers are gone: the failure travels as an error event, then the stream ends.
    sse.data(toOpenAIError(err).body);
    sse.done();
    request.log.warn({ err: (err as Error).message, requestId: stream.requestId, failovers: stream.failovers }, 'stream failed mid-way');
  }
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

/** The engines this control plane runs, by id (an instance started from an engine has the engine's id). */
export interface EngineKinds {
  listEngines(): ReadonlyArray<{ id: string; kind: string }>;
}

export function registerOpenAIRoutes(app: FastifyInstance, manager: ControlPlaneManager, readiness?: ServerReadiness, engines?: EngineKinds): void {
  app.get('/v1/models', async () => {
    // Which engine serves a model tells a client what it gets (e.g. a gateway picks its retrieval for a lexical
    // simulator); external backends run an engine the control plane does not know, and add none.
    const engineKind = new Map((engines?.listEngines() ?? []).map((e) => [e.id, e.kind]));
    const models = new Map<string, { kinds: Set<string>; instances: string[]; engines: Set<string> }>();
    for (const inst of manager.getInstances()) {
      const kind = inst.type === InstanceType.EMBEDDING ? 'embedding' : 'llm';
      for (const m of inst.models) {
        const entry = models.get(m) ?? { kinds: new Set<string>(), instances: [], engines: new Set<string>() };
        entry.kinds.add(kind);
        if (inst.type === InstanceType.LLM_EMBEDDING) entry.kinds.add('embedding');
        entry.instances.push(inst.id);
        const engine = engineKind.get(inst.id);
        if (engine) entry.engines.add(engine);
        models.set(m, entry);
      }
    }
    const created = Math.floor(Date.now() / 1000);
    return {
      object: 'list',
      data: [...models].map(([id, e]) => ({
        id,
        object: 'model',
        created,
        owned_by: 'sage-control-plane',
        sage_kind: e.kinds.has('llm') ? 'llm' : 'embedding',
        sage_kinds: [...e.kinds],
        sage_instances: e.instances,
        sage_engines: [...e.engines],
      })),
    };
  });

  /** Fields chat and text completions share; the caller adds what differs (messages or prompt, max tokens). */
  const common = (body: SharedLlmFields, request: FastifyRequest, reply: FastifyReply) => {
    const ext = readExtensions(request.headers, body);
    return {
      model: body.model,
      sampling: { temperature: body.temperature ?? undefined, topP: body.top_p ?? undefined, stop: body.stop ?? undefined, seed: body.seed ?? undefined, n: body.n ?? undefined },
      priority: ext.priority,
      sloDeadlineMs: ext.sloDeadlineMs,
      ttftDeadlineMs: ext.ttftDeadlineMs,
      userId: body.user ?? undefined,
      sessionId: ext.sessionId,
      extraBody: passthrough(body),
      signal: clientGone(request, reply),
    } satisfies InferenceRequest;
  };

  const answer = async (inference: InferenceRequest, stream: boolean | null | undefined, request: FastifyRequest, reply: FastifyReply) => {
    await awaitModel(readiness, inference.model, 'llm', inference.signal as AbortSignal);
    if (stream) return relay(manager, inference, request, reply);
    const result = await manager.submit(inference);
    if (result.prefillInstanceId) void reply.header('x-sage-prefill-instance', result.prefillInstanceId);
    return reply.header('x-sage-request-id', result.requestId).header('x-sage-instance', result.instanceId).send(result.body);
  };

  app.post('/v1/chat/completions', async (request, reply) => {
    const body = parse(ChatCompletionRequestSchema, request.body, reply);
    if (!body) return reply;
    checkPromptSize(messagesChars(body.messages), 'messages');
    const inference: InferenceRequest = {
      ...common(body, request, reply),
      type: RequestType.LLM_CHAT,
      messages: body.messages as ChatMessageLike[],
      maxTokens: body.max_completion_tokens ?? body.max_tokens ?? undefined,
    };
    return answer(inference, body.stream, request, reply);
  });

  app.post('/v1/completions', async (request, reply) => {
    const body = parse(CompletionRequestSchema, request.body, reply);
    if (!body) return reply;
    const prompt = promptText(body.prompt);
    checkPromptSize(prompt.length, 'prompt');
    // OpenAI's completions default is 16 tokens.
    const inference: InferenceRequest = { ...common(body, request, reply), type: RequestType.LLM_GENERATE, prompt, maxTokens: body.max_tokens ?? 16 };
    return answer(inference, body.stream, request, reply);
  });

  app.post('/v1/embeddings', async (request, reply) => {
    const raw = request.body as Record<string, unknown> | null;
    if (raw && typeof raw === 'object' && 'stream' in raw && raw.stream !== false && raw.stream !== undefined) {
      return reply.code(400).send(openAIError(400, 'embeddings cannot be streamed: remove "stream"', { param: 'stream', code: 'unsupported_parameter' }).body);
    }
    const body = parse(EmbeddingRequestSchema, request.body, reply);
    if (!body) return reply;
    const ext = readExtensions(request.headers, body);
    const texts = embeddingTexts(body.input);
    checkPromptSize(texts.reduce((n, t) => n + t.length, 0), 'input');
    const signal = clientGone(request, reply);
    await awaitModel(readiness, body.model, 'embedding', signal);
    const result = await manager.submit({
      type: RequestType.EMBEDDING,
      model: body.model,
      input: texts,
      priority: ext.priority,
      sloDeadlineMs: ext.sloDeadlineMs,
      userId: body.user ?? undefined,
      extraBody: passthrough(body),
      signal,
    });
    return reply.header('x-sage-request-id', result.requestId).header('x-sage-instance', result.instanceId).send(result.body);
  });
}
