// Retrieval for a conversation: the latest user message decides what is asked, and the recent history
// says what it is about ("And what is its population?" needs the city named before — in an earlier
// question, or only in the answer to it). Both are embedded in one call and blended, the latest weighted
// more, so a change of topic still wins.
import { contentText, decodeTokens, encodeTokens, type ChatMessage } from '@sage/common';
import type { Embedder } from '../ingest/ingester';
import type { SearchHit, VectorStore } from '../store/vector-store';

export interface RetrievalOptions {
  /** Chunks to retrieve (default 4). */
  topK?: number;
  /** Earlier user messages that join the query, with the last assistant reply (default 2). */
  historyTurns?: number;
  /** Weight of the history against the latest message (default 0.75). */
  historyWeight?: number;
  /** Hits scoring below this are dropped (default: none). */
  minScore?: number;
  /**
   * Tokens of each query text sent to the embedding model (default 256): embedding models accept short
   * inputs only (512 tokens is common), so a long message is embedded by its end, where the question is.
   */
  maxQueryTokens?: number;
}

export const DEFAULT_TOP_K = 4;
export const DEFAULT_MAX_QUERY_TOKENS = 256;

/** The last `max` tokens of a text (the whole text when it is shorter). */
function tailTokens(text: string, max: number): string {
  const ids = encodeTokens(text);
  return ids.length <= max ? text : decodeTokens(ids.slice(ids.length - max)).trim();
}

function normalize(v: number[]): number[] {
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return norm > 0 ? v.map((x) => x / norm) : v;
}

/** The latest user message, and the few user messages before it with the last reply, as retrieval queries. */
export function conversationQuery(messages: readonly ChatMessage[], historyTurns = 2): { latest: string; history: string } {
  const text = (m: ChatMessage) => contentText(m.content).trim();
  const lastUser = messages.map((m) => m.role).lastIndexOf('user');
  if (lastUser < 0) return { latest: '', history: '' };
  const earlier = messages.slice(0, lastUser);
  const users = earlier.filter((m) => m.role === 'user').map(text).filter((t) => t.length > 0);
  const reply = earlier.filter((m) => m.role === 'assistant').map(text).filter((t) => t.length > 0).pop();
  const history = [...(historyTurns > 0 ? users.slice(-historyTurns) : []), ...(reply && historyTurns > 0 ? [reply] : [])].join('\n');
  return { latest: text(messages[lastUser] as ChatMessage), history };
}

export class Retriever {
  constructor(
    private readonly store: VectorStore,
    private readonly embedder: () => Promise<Embedder>,
    private readonly defaults: RetrievalOptions = {},
  ) {}

  async search(text: string, opts: RetrievalOptions = {}): Promise<SearchHit[]> {
    const max = opts.maxQueryTokens ?? this.defaults.maxQueryTokens ?? DEFAULT_MAX_QUERY_TOKENS;
    const [vector] = await (await this.embedder()).embed([tailTokens(text, max)]);
    return this.searchVector(vector as number[], opts);
  }

  async forConversation(messages: readonly ChatMessage[], opts: RetrievalOptions = {}): Promise<SearchHit[]> {
    const o = { ...this.defaults, ...opts };
    const { latest, history } = conversationQuery(messages, o.historyTurns ?? 2);
    if (!latest) return [];
    if (!history) return this.search(latest, o);
    const max = o.maxQueryTokens ?? DEFAULT_MAX_QUERY_TOKENS;
    const [a, b] = await (await this.embedder()).embed([tailTokens(latest, max), tailTokens(history, max)]);
    const w = o.historyWeight ?? 0.75;
    const blended = normalize((a as number[]).map((x, i) => x + w * ((b as number[])[i] ?? 0)));
    return this.searchVector(blended, o);
  }

  private async searchVector(vector: number[], opts: RetrievalOptions): Promise<SearchHit[]> {
    const o = { ...this.defaults, ...opts };
    const hits = await this.store.search(normalize(vector), o.topK ?? DEFAULT_TOP_K);
    return o.minScore === undefined ? hits : hits.filter((h) => h.score >= (o.minScore as number));
  }
}
