// The gateway's HTTP API (F-503, F-504): OpenAI-compatible chat with retrieval, the RAG management routes,
// sessions and health. Bodies are validated with zod; every error leaves in OpenAI's shape.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { countChatTokens, countTokens, openAIError, zodIssueToOpenAIError, type ChatMessage, type ChatOptions, type ChatReply } from '@sage/common';
import { GatewayError, toOpenAIError } from '../errors';
import type { IngestResult } from '../ingest/ingester';
import type { RagPipeline, Source } from '../rag/pipeline';
import type { EmbedderProfile } from '../rag/fusion-defaults';
import type { EffectiveRetrieval, RetrievalOptions, RetrievedHit } from '../rag/retriever';
import { validateSessionId } from '../sessions/session-store';
import { IngestRequestSchema, QueryRequestSchema, RagChatRequestSchema, type RagChatRequest } from './schemas';
import { endSse, sendEvent, startSse } from './sse';

export interface AppOptions {
  pipeline: RagPipeline;
  logger: Logger;
  /** Largest request body in bytes (default 16 MiB: ingest may carry whole documents). */
  bodyLimit?: number;
  version?: string;
}

function parse<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const r = schema.safeParse(body ?? undefined);
  if (!r.success) {
    const e = zodIssueToOpenAIError(r.error).body.error;
    throw new GatewayError(400, e.message, e.code ?? 'invalid_value', e.param);
  }
  return r.data;
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

function hitJson(h: RetrievedHit, i: number) {
  return {
    index: i + 1,
    document_id: h.chunk.documentId,
    source: h.chunk.source,
    chunk_id: h.chunk.id,
    position: h.chunk.position,
    heading_path: h.chunk.headingPath,
    page: h.chunk.page ?? null,
    title: h.chunk.title ?? null,
    score: round4(h.score),
    retriever: h.retriever,
    ranks: h.ranks,
    similarity: h.similarity === undefined ? null : round4(h.similarity),
    text: h.chunk.text,
  };
}

/** Retrieval settings of a request (`rag` in chat, the body of /v1/rag/query), in the pipeline's terms. */
function retrievalOptions(o: { top_k?: number; min_score?: number; mode?: RetrievalOptions['mode']; vector_weight?: number; fulltext_weight?: number; rrf_k?: number } = {}): RetrievalOptions {
  return {
    ...(o.top_k !== undefined && { topK: o.top_k }),
    ...(o.min_score !== undefined && { minScore: o.min_score }),
    ...(o.mode !== undefined && { mode: o.mode }),
    ...(o.vector_weight !== undefined && { vectorWeight: o.vector_weight }),
    ...(o.fulltext_weight !== undefined && { fulltextWeight: o.fulltext_weight }),
    ...(o.rrf_k !== undefined && { rrfK: o.rrf_k }),
  };
}

function embedderJson(p: EmbedderProfile) {
  return { model: p.model, family: p.family, reason: p.reason };
}

/** How a query was answered: the mode, the fusion and where its defaults came from. */
function retrievalJson(r: EffectiveRetrieval) {
  return {
    mode: r.mode,
    vector_weight: r.fusion?.vectorWeight ?? null,
    fulltext_weight: r.fusion?.fulltextWeight ?? null,
    rrf_k: r.fusion?.rrfK ?? null,
    embedder: r.embedder ? embedderJson(r.embedder) : null,
  };
}

function ingestJson(r: IngestResult) {
  return {
    object: 'rag.ingest',
    documents: r.documents,
    chunks_written: r.chunksWritten,
    chunks_removed: r.chunksRemoved,
    removed: r.removed,
    skipped: r.skipped,
    failed: r.failed,
  };
}

function sessionIdOf(request: FastifyRequest, body: RagChatRequest): string | undefined {
  const header = request.headers['x-session-id'];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  if (fromHeader !== undefined && body.session_id !== undefined && fromHeader !== body.session_id) {
    throw new GatewayError(400, 'x-session-id header and session_id field disagree', 'invalid_session_id', 'session_id');
  }
  const id = fromHeader ?? body.session_id;
  return id === undefined ? undefined : validateSessionId(id, fromHeader !== undefined ? 'x-session-id' : 'session_id');
}

function chatOptions(body: RagChatRequest): ChatOptions {
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  return {
    ...(maxTokens != null && { maxTokens }),
    ...(body.temperature != null && { temperature: body.temperature }),
    ...(body.top_p != null && { topP: body.top_p }),
    ...(body.stop != null && { stop: body.stop }),
    ...(body.seed != null && { seed: body.seed }),
    ...(body.sage?.priority !== undefined && { priority: body.sage.priority }),
    ...(body.sage?.slo_deadline_ms !== undefined && { sloDeadlineMs: body.sage.slo_deadline_ms }),
  };
}

function usage(prompt: ChatMessage[], answer: string) {
  const promptTokens = countChatTokens(prompt);
  const completionTokens = countTokens(answer);
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

export function buildApp(opts: AppOptions): FastifyInstance {
  const { pipeline } = opts;
  const app = Fastify({ loggerInstance: opts.logger as FastifyBaseLogger, bodyLimit: opts.bodyLimit ?? 16 * 1024 * 1024 });

  app.setErrorHandler((err: FastifyError | Error, request, reply) => {
    const status = (err as FastifyError).statusCode;
    // fastify's own 4xx (malformed JSON, body too large, unsupported media type) keep their status.
    const result =
      !(err instanceof GatewayError) && typeof status === 'number' && status >= 400 && status < 500
        ? openAIError(status, err.message, { code: (err as FastifyError).code?.toLowerCase() ?? null })
        : toOpenAIError(err);
    if (result.status >= 500) request.log.error({ err, url: request.url }, 'request failed');
    void reply.status(result.status).send(result.body);
  });
  app.setNotFoundHandler((request, reply) => {
    const r = openAIError(404, `no route for ${request.method} ${request.url}`, { code: 'not_found' });
    void reply.status(404).send(r.body);
  });

  app.get('/health', async () => {
    const [documents, chunks, models, embedder] = await Promise.all([
      pipeline.store.listDocuments(),
      pipeline.store.count(),
      pipeline.clients.describe(),
      pipeline.clients.peekEmbeddingProfile(),
    ]);
    // The embedder's kind is known once a hybrid retrieval asked for it.
    return { status: 'ok', service: 'sage-gateway', version: opts.version ?? '0.1.0', documents: documents.length, chunks, models, embedder: embedder ? embedderJson(embedder) : null };
  });

  app.get('/v1/models', async () => {
    const llm = await pipeline.clients.getLLM();
    return { object: 'list', data: [{ id: llm.modelName, object: 'model', created: 0, owned_by: 'sage-gateway' }] };
  });

  app.post('/v1/chat/completions', async (request, reply) => {
    const body = parse(RagChatRequestSchema, request.body);
    const sessionId = sessionIdOf(request, body);
    const llm = await pipeline.clients.getLLM();
    const options = chatOptions(body);
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const model = llm.modelName; // `model` in the request may be omitted, 'default' or unknown: the configured LLM answers
    const turn = { messages: body.messages as ChatMessage[], sessionId, retrieval: retrievalOptions(body.rag) };
    const extra = sessionId ? { session_id: sessionId } : {};
    if (sessionId) void reply.header('x-session-id', sessionId);
    let prompt: ChatMessage[] = [];

    if (!body.stream) {
      let completion: ChatReply | undefined;
      const result = await pipeline.chat(turn, async (p) => {
        prompt = p.llmMessages;
        completion = await llm.complete(p.llmMessages, options);
        return completion.text;
      });
      return {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: result.answer }, finish_reason: completion?.finishReason ?? 'stop', logprobs: null }],
        // The model server's own count when it gave one; else the gateway's count of what it sent and got.
        usage: completion?.usage ?? usage(prompt, result.answer),
        sources: result.sources,
        ...extra,
      };
    }

    // Streaming: nothing is sent until the model's first token arrived, so failures before it are plain JSON errors.
    const abort = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) abort.abort(new Error('client disconnected'));
    });
    const chunk = (delta: Record<string, unknown>, finish: string | null, more: Record<string, unknown> = {}) => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
      ...more,
    });
    let started = false;
    let result: { answer: string; sources: Source[] };
    let completion: ChatReply | undefined;
    // Upstream usage is asked for only when our caller wants usage: not every model server accepts the field.
    const includeUsage = body.stream_options?.include_usage === true;
    try {
      result = await pipeline.chat(turn, async (p) => {
        prompt = p.llmMessages;
        const it = llm.stream(p.llmMessages, { ...options, signal: abort.signal, includeUsage });
        let next = await it.next();
        reply.hijack();
        startSse(reply.raw, sessionId ? { 'x-session-id': sessionId } : {});
        started = true;
        sendEvent(reply.raw, chunk({ role: 'assistant', content: '' }, null));
        let text = '';
        while (!next.done) {
          text += next.value;
          sendEvent(reply.raw, chunk({ content: next.value }, null));
          next = await it.next();
        }
        completion = next.value;
        return text;
      });
    } catch (err) {
      if (!started) throw err;
      if (!abort.signal.aborted) {
        request.log.warn({ err }, 'stream failed after it started');
        sendEvent(reply.raw, toOpenAIError(err).body);
        endSse(reply.raw);
      }
      return reply;
    }
    // The last chunk carries the sources (as the non-streaming response does), then usage when asked for.
    sendEvent(reply.raw, chunk({}, completion?.finishReason ?? 'stop', { sources: result.sources, ...extra }));
    if (includeUsage) {
      // The model server's own count when it sent one; else the gateway's count of what it sent and got.
      sendEvent(reply.raw, { id, object: 'chat.completion.chunk', created, model, choices: [], usage: completion?.usage ?? usage(prompt, result.answer) });
    }
    endSse(reply.raw);
    return reply;
  });

  app.post('/v1/rag/ingest', async (request) => {
    const body = parse(IngestRequestSchema, request.body);
    const result = body.paths ? await pipeline.ingestPaths(body.paths) : await pipeline.ingestDocuments(body.documents ?? []);
    return ingestJson(result);
  });

  app.post('/v1/rag/query', async (request) => {
    const body = parse(QueryRequestSchema, request.body);
    const opts = retrievalOptions(body);
    const [hits, settings] = await Promise.all([pipeline.query(body.query, opts), pipeline.retriever.settings(opts)]);
    return { object: 'list', query: body.query, retrieval: retrievalJson(settings), data: hits.map(hitJson) };
  });

  app.get('/v1/rag/documents', async () => {
    const docs = await pipeline.listDocuments();
    return {
      object: 'list',
      data: docs.map((d) => ({
        id: d.id,
        object: 'rag.document',
        source: d.source,
        title: d.title ?? null,
        tags: d.tags ?? [],
        chunks: d.chunks,
        document_hash: d.documentHash,
        ingested_at: d.ingestedAt,
      })),
    };
  });

  app.delete<{ Params: { id: string } }>('/v1/rag/documents/:id', async (request) => {
    const removed = await pipeline.deleteDocument(request.params.id);
    return { id: request.params.id, object: 'rag.document', deleted: true, chunks_removed: removed };
  });

  app.get('/v1/sessions', async () => ({ object: 'list', data: await pipeline.sessions.list() }));

  app.get<{ Params: { id: string } }>('/v1/sessions/:id', async (request) => {
    const s = await pipeline.sessions.get(request.params.id);
    if (!s) throw new GatewayError(404, `session "${request.params.id}" not found`, 'session_not_found', 'id');
    return { object: 'session', ...s };
  });

  app.delete<{ Params: { id: string } }>('/v1/sessions/:id', async (request) => {
    const existed = await pipeline.sessions.delete(request.params.id);
    if (!existed) throw new GatewayError(404, `session "${request.params.id}" not found`, 'session_not_found', 'id');
    return { id: request.params.id, object: 'session', deleted: true };
  });

  return app;
}

