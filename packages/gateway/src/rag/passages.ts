// From retrieved chunks to the passages a model reads. A hit is widened with its neighbouring chunks of
// the same document (a fact often sits one chunk away from the words that matched — a section below the
// title that named the subject), adjacent chunks are merged into one passage without repeating their
// overlap, and passages are ordered by their document's best hit, so the most relevant document comes first.
// In a paged document (PDF) neither widening nor merging crosses a page break, so every passage cites the
// one page it is on.
import { countTokens } from '@sage/common';
import type { ChunkRecord, SearchHit, VectorStore } from '../store/vector-store';
import type { RetrieverName } from './retriever';

export interface Passage {
  /** Number in the prompt ([n]), from 1. */
  index: number;
  documentId: string;
  source: string;
  chunks: ChunkRecord[];
  /** Best score among the retrieved chunks of the passage (neighbours added for context have none). */
  score: number;
  /** Which retriever found the passage's chunks ('both' when they were found by each). */
  retriever: RetrieverName;
  /** Pages the passage's chunks are on (paged documents only; empty otherwise). */
  pages: number[];
  text: string;
}

export interface PassageOptions {
  /** Chunks on each side of a hit to add (default 1; 0 turns widening off). */
  neighbors?: number;
  /** Token budget of all passages together; hits always fit, neighbours only while it lasts (default 1500). */
  maxContextTokens?: number;
}

/** Longest start of `next` (at least 20 characters) that `prev` ends with: the overlap chunking repeated. */
function overlapLength(prev: string, next: string): number {
  for (let k = Math.min(prev.length, next.length); k >= 20; k--) if (prev.endsWith(next.slice(0, k))) return k;
  return 0;
}

function mergeRun(run: ChunkRecord[]): string {
  let text = '';
  let heading = '';
  for (const c of run) {
    const h = c.headingPath.join(' > ');
    let body = c.text;
    if (text) body = body.slice(overlapLength(text, body)).trim();
    if (!body) continue;
    // The heading goes in front of the chunk's first sentence, not on a line of its own.
    const prefixed = h && h !== heading ? `(${h}) ${body}` : body;
    heading = h;
    text = text ? `${text}\n\n${prefixed}` : prefixed;
  }
  return text;
}

/** The retriever of a run of chunks, from those of its retrieved chunks (a hit without one is a vector hit). */
function runRetriever(run: readonly ChunkRecord[], found: ReadonlyMap<string, RetrieverName>): RetrieverName {
  const names = new Set(run.map((c) => found.get(c.id)).filter((r): r is RetrieverName => r !== undefined));
  if (names.has('both') || (names.has('vector') && names.has('fulltext'))) return 'both';
  return names.has('fulltext') ? 'fulltext' : 'vector';
}

export async function buildPassages(hits: readonly (SearchHit & { retriever?: RetrieverName })[], store: VectorStore, opts: PassageOptions = {}): Promise<Passage[]> {
  const neighbors = Math.max(0, opts.neighbors ?? 1);
  const budget = opts.maxContextTokens ?? 1500;
  const scores = new Map(hits.map((h) => [h.chunk.id, h.score]));
  const found = new Map(hits.map((h) => [h.chunk.id, h.retriever ?? 'vector']));
  const docOrder: string[] = [];
  const selected = new Map<string, Map<number, ChunkRecord>>();
  let used = 0;
  for (const h of hits) {
    if (!selected.has(h.chunk.documentId)) {
      selected.set(h.chunk.documentId, new Map());
      docOrder.push(h.chunk.documentId);
    }
    const sel = selected.get(h.chunk.documentId) as Map<number, ChunkRecord>;
    if (!sel.has(h.chunk.position)) used += countTokens(h.chunk.text);
    sel.set(h.chunk.position, h.chunk);
  }
  if (neighbors > 0) {
    const all = new Map(await Promise.all(docOrder.map(async (id) => [id, await store.documentChunks(id)] as const)));
    for (const h of hits) {
      const sel = selected.get(h.chunk.documentId) as Map<number, ChunkRecord>;
      const chunks = all.get(h.chunk.documentId) ?? [];
      for (let d = 1; d <= neighbors; d++) {
        for (const p of [h.chunk.position - d, h.chunk.position + d]) {
          const c = chunks.find((x) => x.position === p);
          if (!c || sel.has(p) || c.page !== h.chunk.page) continue;
          const t = countTokens(c.text);
          if (used + t > budget) continue;
          sel.set(p, c);
          used += t;
        }
      }
    }
  }
  const passages: Omit<Passage, 'index'>[] = [];
  for (const docId of docOrder) {
    const chunks = [...(selected.get(docId) as Map<number, ChunkRecord>).values()].sort((a, b) => a.position - b.position);
    const runs: ChunkRecord[][] = [];
    for (const c of chunks) {
      const last = runs[runs.length - 1];
      const prev = last?.[last.length - 1];
      if (last && prev && prev.position === c.position - 1 && prev.page === c.page) last.push(c);
      else runs.push([c]);
    }
    const docPassages = runs.map((run) => ({
      documentId: docId,
      source: (run[0] as ChunkRecord).source,
      chunks: run,
      score: Math.max(...run.map((c) => scores.get(c.id) ?? -Infinity)),
      retriever: runRetriever(run, found),
      pages: [...new Set(run.map((c) => c.page).filter((p): p is number => p !== undefined))].sort((a, b) => a - b),
      text: mergeRun(run),
    }));
    passages.push(...docPassages.sort((a, b) => b.score - a.score));
  }
  return passages.map((p, i) => ({ ...p, index: i + 1 }));
}
