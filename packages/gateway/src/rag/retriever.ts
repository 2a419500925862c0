// Retrieval for a conversation: the latest user message decides what is asked, and the recent history
// says what it is about ("And what is its population?" needs the city named before — in an earlier
// question, or only in the answer to it). Two retrievers answer it: the vector search (the latest message
// and the history embedded in one call and blended, the latest weighted more, so a change of topic still
// wins) and the store's full-text index (BM25, the history's words counting less), which finds exact
// names, numbers and codes an embedding blurs. Their lists are fused by reciprocal rank fusion:
// score(chunk) = Σ weight_r / (k + rank_r), so what both rank high comes first. Weights and k not set by the
// request or the gateway's configuration are the defaults for the kind of embedder in use (fusion-defaults.ts).
import { contentText, decodeTokens, encodeTokens, type ChatMessage } from '@sage/common';
import { GatewayError } from '../errors';
import type { Embedder } from '../ingest/ingester';
import { documentOrder } from '../store/document-order';
import { FUSION_DEFAULTS, type EmbedderProfile, type FusionSettings } from './fusion-defaults';
import type { SearchHit, VectorStore, WeightedText } from '../store/vector-store';

/** Which retrievers run: both, fused (default), or one alone. */
export type RetrievalMode = 'hybrid' | 'vector' | 'fulltext';
/** Which retriever found a chunk (or a passage): 'both' when each would have returned it on its own. */
export type RetrieverName = 'vector' | 'fulltext' | 'both';

export interface RetrievalOptions {
  /** Chunks to retrieve (default 4). */
  topK?: number;
  /** Earlier user messages that join the query, with the last assistant reply (default 2). */
  historyTurns?: number;
  /** Weight of the history against the latest message (default 0.75), in both retrievers. */
  historyWeight?: number;
  /** Vector candidates with a cosine similarity below this are dropped before fusion (default: none). */
  minScore?: number;
  /**
   * Tokens of each query text sent to the embedding model (default 256): embedding models accept short
   * inputs only (512 tokens is common), so a long message is embedded by its end, where the question is.
   */
  maxQueryTokens?: number;
  /** 'hybrid' (default), 'vector' or 'fulltext'. A store without full-text search is vector-only. */
  mode?: RetrievalMode;
  /** Weight of the vector ranking in the fusion (default: 1 for either kind of embedder). */
  vectorWeight?: number;
  /** Weight of the full-text ranking in the fusion (default: 1 with a semantic embedder, 2 with a lexical one). */
  fulltextWeight?: number;
  /** The k of reciprocal rank fusion (default: 60 with a semantic embedder, 10 with a lexical one): larger flattens the advantage of the first ranks. */
  rrfK?: number;
  /** Candidates each retriever brings to the fusion (default max(20, 4 × topK)). */
  candidates?: number;
}

export interface RetrievedHit extends SearchHit {
  /**
   * Higher is better. Hybrid: the fused score scaled so that 1 means ranked first by both retrievers;
   * vector alone: the cosine similarity; full text alone: the BM25 score.
   */
  score: number;
  retriever: RetrieverName;
  /** Rank (from 1) of the chunk in each retriever's own list. */
  ranks: { vector?: number; fulltext?: number };
  /** Cosine similarity, when the vector search found the chunk. */
  similarity?: number;
}

/** How a retrieval runs once the request, the configuration and the embedder's defaults are put together. */
export interface EffectiveRetrieval {
  mode: RetrievalMode;
  /** The fusion (hybrid only). */
  fusion?: FusionSettings;
  /** The embedder whose defaults filled in what the request and the configuration left unset (hybrid only). */
  embedder?: EmbedderProfile;
}

export const DEFAULT_TOP_K = 4;
export const DEFAULT_MAX_QUERY_TOKENS = 256;
export const DEFAULT_RRF_K = 60;

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

/**
 * Which retriever found a fused hit: the ones that would have returned it on their own, among their first
 * `cutoff`; when neither would have, it is there by the two lists together.
 */
function foundBy(ranks: RetrievedHit['ranks'], cutoff: number): RetrieverName {
  const v = ranks.vector !== undefined && ranks.vector <= cutoff;
  const t = ranks.fulltext !== undefined && ranks.fulltext <= cutoff;
  if (v !== t) return v ? 'vector' : 'fulltext';
  if (v) return 'both';
  return ranks.vector === undefined ? 'fulltext' : ranks.fulltext === undefined ? 'vector' : 'both';
}

/**
 * Reciprocal rank fusion of a vector list and a full-text list (each best first) into one, best first.
 * `cutoff` (default: no limit) is how far down a list a chunk counts as found by that retriever: the
 * retriever finds everything in its list otherwise, however far down. Exported for testing and for callers
 * with lists of their own.
 */
export function fuseRankings(
  vector: readonly SearchHit[],
  fulltext: readonly SearchHit[],
  opts: Pick<RetrievalOptions, 'vectorWeight' | 'fulltextWeight' | 'rrfK'> & { cutoff?: number } = {},
): RetrievedHit[] {
  const k = opts.rrfK ?? DEFAULT_RRF_K;
  const wv = opts.vectorWeight ?? 1;
  const wt = opts.fulltextWeight ?? 1;
  const fused = new Map<string, RetrievedHit>();
  const add = (hits: readonly SearchHit[], which: 'vector' | 'fulltext', weight: number) => {
    hits.forEach((h, i) => {
      const hit = fused.get(h.chunk.id) ?? { chunk: h.chunk, score: 0, retriever: which, ranks: {} };
      hit.ranks[which] = i + 1;
      if (which === 'vector') hit.similarity = h.score;
      hit.score += weight / (k + i + 1);
      fused.set(h.chunk.id, hit);
    });
  };
  add(vector, 'vector', wv);
  add(fulltext, 'fulltext', wt);
  // Scaled so that first place in both lists scores 1.
  const best = (wv + wt) / (k + 1);
  const cutoff = opts.cutoff ?? Number.POSITIVE_INFINITY;
  const out = [...fused.values()].map((h) => ({ ...h, score: best > 0 ? h.score / best : 0, retriever: foundBy(h.ranks, cutoff) }));
  const rank = (r: number | undefined) => r ?? Number.MAX_SAFE_INTEGER;
  return out.sort(
    (a, b) =>
      b.score - a.score ||
      rank(a.ranks.vector) - rank(b.ranks.vector) ||
      rank(a.ranks.fulltext) - rank(b.ranks.fulltext) ||
      documentOrder(a.chunk, b.chunk),
  );
}

interface QueryTexts {
  latest: string;
  history: string;
}

/** Without a way to learn the embedder, it is taken for a semantic model: the usual fusion. */
const UNKNOWN_EMBEDDER = async (): Promise<EmbedderProfile> => ({ model: 'unknown', family: 'semantic', reason: 'the embedder is not known; taken for a semantic embedding model' });

export class Retriever {
  constructor(
    private readonly store: VectorStore,
    private readonly embedder: () => Promise<Embedder>,
    private readonly defaults: RetrievalOptions = {},
    private readonly embedderProfile: () => Promise<EmbedderProfile> = UNKNOWN_EMBEDDER,
  ) {}

  /**
   * How a retrieval with `opts` runs: the mode, and for hybrid the fusion, each of its settings taken from `opts`,
   * else the gateway's configuration, else the defaults for the embedder in use (which is then asked for, once).
   */
  async settings(opts: RetrievalOptions = {}): Promise<EffectiveRetrieval> {
    const o = { ...this.defaults, ...opts };
    const mode = this.mode(o);
    if (mode !== 'hybrid') return { mode };
    let embedder: EmbedderProfile | undefined;
    if (o.vectorWeight === undefined || o.fulltextWeight === undefined || o.rrfK === undefined) embedder = await this.embedderProfile();
    const defaults = FUSION_DEFAULTS[embedder?.family ?? 'semantic'];
    const fusion = { vectorWeight: o.vectorWeight ?? defaults.vectorWeight, fulltextWeight: o.fulltextWeight ?? defaults.fulltextWeight, rrfK: o.rrfK ?? defaults.rrfK };
    if (fusion.vectorWeight === 0 && fusion.fulltextWeight === 0) {
      throw new GatewayError(400, 'the vector and full-text weights cannot both be 0 (one comes from the request, the other from the gateway\'s settings)', 'invalid_value', 'vector_weight');
    }
    return { mode, fusion, ...(embedder && { embedder }) };
  }

  /** Retrieval for one text (no conversation). */
  search(text: string, opts: RetrievalOptions = {}): Promise<RetrievedHit[]> {
    return this.retrieve({ latest: text, history: '' }, { ...this.defaults, ...opts });
  }

  async forConversation(messages: readonly ChatMessage[], opts: RetrievalOptions = {}): Promise<RetrievedHit[]> {
    const o = { ...this.defaults, ...opts };
    const query = conversationQuery(messages, o.historyTurns ?? 2);
    return query.latest ? this.retrieve(query, o) : [];
  }

  private mode(o: RetrievalOptions): RetrievalMode {
    const mode = o.mode ?? 'hybrid';
    if (this.store.searchText) return mode;
    if (mode === 'fulltext') throw new GatewayError(400, 'this vector store has no full-text search; use mode "vector" or "hybrid"', 'fulltext_unavailable', 'mode');
    return 'vector';
  }

  private async retrieve(q: QueryTexts, o: RetrievalOptions): Promise<RetrievedHit[]> {
    const { mode, fusion } = await this.settings(o);
    const topK = o.topK ?? DEFAULT_TOP_K;
    const max = o.maxQueryTokens ?? DEFAULT_MAX_QUERY_TOKENS;
    const latest = tailTokens(q.latest, max);
    const history = q.history ? tailTokens(q.history, max) : '';
    const historyWeight = o.historyWeight ?? 0.75;
    const n = mode === 'hybrid' ? Math.max(o.candidates ?? Math.max(20, 4 * topK), topK) : topK;

    const [vector, fulltext] = await Promise.all([
      mode === 'fulltext' ? [] : this.vectorSearch(latest, history, historyWeight, n, o.minScore),
      mode === 'vector' ? [] : this.textSearch(latest, history, historyWeight, n),
    ]);
    if (mode === 'vector') return vector.map((h, i) => ({ ...h, retriever: 'vector', ranks: { vector: i + 1 }, similarity: h.score }));
    if (mode === 'fulltext') return fulltext.map((h, i) => ({ ...h, retriever: 'fulltext', ranks: { fulltext: i + 1 } }));
    return fuseRankings(vector, fulltext, { ...fusion, cutoff: topK }).slice(0, topK);
  }

  private async vectorSearch(latest: string, history: string, historyWeight: number, n: number, minScore?: number): Promise<SearchHit[]> {
    const embedder = await this.embedder();
    let vector: number[];
    if (!history) {
      vector = (await embedder.embed([latest]))[0] as number[];
    } else {
      const [a, b] = await embedder.embed([latest, history]);
      vector = (a as number[]).map((x, i) => x + historyWeight * ((b as number[])[i] ?? 0));
    }
    const hits = await this.store.search(normalize(vector), n);
    return minScore === undefined ? hits : hits.filter((h) => h.score >= minScore);
  }

  private textSearch(latest: string, history: string, historyWeight: number, n: number): Promise<SearchHit[]> {
    const query: WeightedText[] = [{ text: latest, weight: 1 }];
    if (history) query.push({ text: history, weight: historyWeight });
    return (this.store.searchText as NonNullable<VectorStore['searchText']>).call(this.store, query, n);
  }
}
