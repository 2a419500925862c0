// The gateway's HTTP API (F-503, F-504): OpenAI-compatible chat with retrieval, the RAG management routes,
// sessions and health. Bodies are validated by the zod schema each route declares; every error leaves in
// OpenAI's shape (sage's shared HTTP edge), a model server's failures as the gateway sees them (asGatewayError).
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { countChatTokens, countTokens, type ChatMessage, type ChatOptions, type ChatReply } from '@sage/common';
import { installHttpEdge, SseStream } from '@sage/common/http';
import { GatewayError, asGatewayError } from '../errors';
import type { IngestResult } from '../ingest/ingester';
import type { RagPipeline, Source } from '../rag/pipeline';
import type { EmbedderProfile } from '../rag/fusion-defaults';
import type { EffectiveRetrieval, RetrievalOptions, RetrievedHit } from '../rag/retriever';
import { validateSessionId } from '../sessions/session-store';
import { IdParams, IngestRequestSchema, QueryRequestSchema, RagChatRequestSchema, type RagChatRequest } from './schemas';

export interface AppOptions {
  pipeline: RagPipeline;
  logger: Logger;
  /** Largest request body in bytes (default 16 MiB: ingest may carry whole documents). */
  bodyLimit?: number;
  version?: string;
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
  const fastify = Fastify({ loggerInstance: opts.logger as FastifyBaseLogger, bodyLimit: opts.bodyLimit ?? 16 * 1024 * 1024 });
  const app = installHttpEdge(fastify, { translate: asGatewayError });

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

  app.post('/v1/chat/completions', { schema: { body: RagChatRequestSchema } }, async (request, reply) => {
    const body = request.body;
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
    let sse: SseStream | undefined;
    let result: { answer: string; sources: Source[] };
    let completion: ChatReply | undefined;
    // Upstream usage is asked for only when our caller wants usage: not every model server accepts the field.
    const includeUsage = body.stream_options?.include_usage === true;
    try {
      result = await pipeline.chat(turn, async (p) => {
        prompt = p.llmMessages;
        const it = llm.stream(p.llmMessages, { ...options, signal: abort.signal, includeUsage });
        let next = await it.next();
        // x-session-id, set on the reply above, goes out with the stream's headers.
        const stream = (sse = new SseStream(reply));
        await stream.send(chunk({ role: 'assistant', content: '' }, null));
        let text = '';
        while (!next.done) {
          text += next.value;
          await stream.send(chunk({ content: next.value }, null));
          next = await it.next();
        }
        completion = next.value;
        return text;
      });
    } catch (err) {
      if (!sse) throw err;
      if (!abort.signal.aborted) {
        request.log.warn({ err }, 'stream failed after it started');
        sse.fail(asGatewayError(err));
      }
      return reply;
    }
    // pipeline.chat resolves only after the answer callback ran, and that opened the stream.
    if (!sse) throw new Error('the streamed answer opened no stream');
    // The last chunk carries the sources (as the non-streaming response does), then usage when asked for.
    await sse.send(chunk({}, completion?.finishReason ?? 'stop', { sources: result.sources, ...extra }));
    if (includeUsage) {
      // The model server's own count when it sent one; else the gateway's count of what it sent and got.
      await sse.send({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: completion?.usage ?? usage(prompt, result.answer) });
    }
    sse.done();
    return reply;
  });

  app.post('/v1/rag/ingest', { schema: { body: IngestRequestSchema } }, async (request) => {
    const body = request.body;
    const result = body.paths ? await pipeline.ingestPaths(body.paths) : await pipeline.ingestDocuments(body.documents ?? []);
    return ingestJson(result);
  });

  app.post('/v1/rag/query', { schema: { body: QueryRequestSchema } }, async (request) => {
    const body = request.body;
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

  app.delete('/v1/rag/documents/:id', { schema: { params: IdParams } }, async (request) => {
    const removed = await pipeline.deleteDocument(request.params.id);
    return { id: request.params.id, object: 'rag.document', deleted: true, chunks_removed: removed };
  });

  app.get('/v1/sessions', async () => ({ object: 'list', data: await pipeline.sessions.list() }));

  app.get('/v1/sessions/:id', { schema: { params: IdParams } }, async (request) => {
    const s = await pipeline.sessions.get(request.params.id);
    if (!s) throw new GatewayError(404, `session "${request.params.id}" not found`, 'session_not_found', 'id');
    return { object: 'session', ...s };
  });

  app.delete('/v1/sessions/:id', { schema: { params: IdParams } }, async (request) => {
    const existed = await pipeline.sessions.delete(request.params.id);
    if (!existed) throw new GatewayError(404, `session "${request.params.id}" not found`, 'session_not_found', 'id');
    return { id: request.params.id, object: 'session', deleted: true };
  });

  return fastify;
}

