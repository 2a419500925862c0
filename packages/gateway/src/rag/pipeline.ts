// The RAG pipeline without HTTP: ingestion, retrieval, and chat turns with sessions. The server and the
// programmatic API both go through this one object.
import type { ChatMessage } from '@sage/common';
import type { GatewayClients } from '../clients';
import { GatewayError } from '../errors';
import type { Ingester, IngestResult, TextDocument } from '../ingest/ingester';
import type { SessionStore } from '../sessions/session-store';
import type { DocumentInfo, VectorStore } from '../store/vector-store';
import { resolveConversation } from './conversation';
import { buildPassages, type Passage, type PassageOptions } from './passages';
import { buildRagMessages, citedPassages } from './prompt';
import type { RetrievalOptions, RetrievedHit, Retriever, RetrieverName } from './retriever';

/** A passage given to the model, as the API reports it (`sources`). */
export interface Source {
  /** The passage number in the prompt ([n]). */
  index: number;
  document_id: string;
  source: string;
  chunk_ids: string[];
  /** Positions of the passage's chunks in their document. */
  positions: number[];
  heading_path: string[];
  /** Best score among the passage's retrieved chunks (see RetrievedHit.score). */
  score: number;
  /** Which retriever found the passage: 'vector', 'fulltext' or 'both'. */
  retriever: RetrieverName;
  /** Pages of the document the passage is on, for PDFs (empty for formats without pages). */
  pages: number[];
  /** The document's title, when it has one. */
  title: string | null;
  /** Whether the answer cites it as [n]. */
  cited: boolean;
  text: string;
}

export interface ChatTurn {
  messages: readonly ChatMessage[];
  sessionId?: string;
  retrieval?: RetrievalOptions;
}

export interface PreparedTurn {
  /** What to send to the LLM. */
  llmMessages: ChatMessage[];
  passages: Passage[];
}

export interface TurnResult {
  answer: string;
  sources: Source[];
}

export function toSources(passages: readonly Passage[], answer: string): Source[] {
  const cited = new Set(citedPassages(answer, passages.length));
  return passages.map((p) => ({
    index: p.index,
    document_id: p.documentId,
    source: p.source,
    chunk_ids: p.chunks.map((c) => c.id),
    positions: p.chunks.map((c) => c.position),
    heading_path: p.chunks[0]?.headingPath ?? [],
    score: Math.round(p.score * 1e4) / 1e4,
    retriever: p.retriever,
    pages: p.pages,
    title: p.chunks[0]?.title ?? null,
    cited: cited.has(p.index),
    text: p.text,
  }));
}

export class RagPipeline {
  constructor(
    readonly store: VectorStore,
    readonly ingester: Ingester,
    readonly retriever: Retriever,
    readonly sessions: SessionStore,
    readonly clients: GatewayClients,
    private readonly instructions?: string,
    private readonly passageOptions: PassageOptions = {},
  ) {}

  ingestPaths(paths: readonly string[]): Promise<IngestResult> {
    return this.ingester.ingestPaths(paths);
  }

  ingestDocuments(docs: readonly TextDocument[]): Promise<IngestResult> {
    return this.ingester.ingestDocuments(docs);
  }

  query(text: string, opts: RetrievalOptions = {}): Promise<RetrievedHit[]> {
    return this.retriever.search(text, opts);
  }

  listDocuments(): Promise<DocumentInfo[]> {
    return this.store.listDocuments();
  }

  /** Removes a document; a 404 GatewayError when it is not stored. */
  async deleteDocument(id: string): Promise<number> {
    const removed = await this.store.deleteDocument(id);
    if (removed === 0) throw new GatewayError(404, `document "${id}" not found`, 'document_not_found', 'id');
    return removed;
  }

  /**
   * One chat turn: resolve the conversation against the session, retrieve, let `answer` produce the reply
   * (streamed or not) from the prepared prompt, then record the turn in the session. Turns of one session
   * run one at a time.
   */
  async chat(turn: ChatTurn, answer: (prepared: PreparedTurn) => Promise<string>): Promise<TurnResult> {
    const run = async (): Promise<TurnResult> => {
      const session = turn.sessionId ? await this.sessions.get(turn.sessionId) : undefined;
      const conv = resolveConversation(turn.messages, session?.messages ?? [], session?.system ?? null);
      if (conv.turns[conv.turns.length - 1]?.role !== 'user') {
        throw new GatewayError(400, 'the last message must be a user message (the question to answer)', 'missing_user_message', 'messages');
      }
      const withSystem: ChatMessage[] = conv.system ? [{ role: 'system', content: conv.system }, ...conv.turns] : conv.turns;
      const hits = await this.retriever.forConversation(withSystem, turn.retrieval);
      const passages = await buildPassages(hits, this.store, this.passageOptions);
      const text = await answer({ llmMessages: buildRagMessages(withSystem, passages, this.instructions), passages });
      if (turn.sessionId) await this.sessions.append(turn.sessionId, [...conv.added, { role: 'assistant', content: text }], conv.system);
      return { answer: text, sources: toSources(passages, text) };
    };
    return turn.sessionId ? this.sessions.withLock(turn.sessionId, run) : run();
  }
}
