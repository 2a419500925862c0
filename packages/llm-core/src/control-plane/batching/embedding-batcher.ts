// Embedding batching (F-206): requests for the same model (and output options) that arrive within
// `maxWaitMs` are merged into one upstream call of at most `batchSize` texts and `maxBatchTokens` tokens;
// the results are split back to each caller in its own order. A caller's request is never split: one
// larger than a batch goes alone. A failed batch fails every caller in it with that error.
import { countTokens } from '@sage/common';
import { IdList } from '../id-list';
import { RequestCancelledError } from '../manager/errors';

export interface EmbeddingBatchOptions {
  /** How long the first request of a batch waits for company, ms (default 50). */
  maxWaitMs?: number;
  /** Texts per batch (default 32). */
  batchSize?: number;
  /** Tokens per batch (default 8192). */
  maxBatchTokens?: number;
}

/** One embedding input: a text, or token ids (sent untouched; batched only with other token-id inputs). */
export type EmbeddingInput = string | number[];

export interface EmbeddingMember {
  requestId: string;
  model: string;
  /** The caller's inputs, all texts or all token-id arrays. */
  texts: EmbeddingInput[];
  dimensions?: number;
  encodingFormat?: 'float' | 'base64';
  signal?: AbortSignal;
}

/** One merged upstream call. `key` groups compatible members; `members` in arrival order. */
export interface EmbeddingBatch<M extends EmbeddingMember = EmbeddingMember> {
  id: string;
  model: string;
  dimensions?: number;
  encodingFormat?: 'float' | 'base64';
  /** All texts or all token-id arrays (members of the two kinds never share a batch). */
  texts: EmbeddingInput[];
  tokens: number;
  members: readonly M[];
  /** Aborted when every member has gone away before the batch finished. */
  signal: AbortSignal;
}

/** What the upstream returned for the batch: one vector (or base64 string) per text, in text order. */
export interface EmbeddingBatchOutput {
  embeddings: Array<number[] | string>;
  model: string;
  /** The engine's prompt-token count for the whole batch (its usage), when it gave one. */
  promptTokens?: number;
}

export interface EmbeddingMemberResult {
  embeddings: Array<number[] | string>;
  model: string;
  promptTokens: number;
  batchId: string;
  batchSize: number;
}

interface Waiting<M extends EmbeddingMember> {
  member: M;
  tokens: number;
  resolve: (r: EmbeddingMemberResult) => void;
  reject: (e: unknown) => void;
  detach: () => void;
  settled: boolean;
}

interface OpenBatch<M extends EmbeddingMember> {
  key: string;
  waiting: Array<Waiting<M>>;
  texts: number;
  tokens: number;
  timer: NodeJS.Timeout;
}

export type EmbeddingBatchDispatcher<M extends EmbeddingMember = EmbeddingMember> = (batch: EmbeddingBatch<M>) => Promise<EmbeddingBatchOutput>;

/** `M`: the member objects the caller passes in, handed back as they are in each batch's `members`. */
export class EmbeddingBatcher<M extends EmbeddingMember = EmbeddingMember> {
  private readonly maxWaitMs: number;
  private readonly batchSize: number;
  private readonly maxBatchTokens: number;
  // Not a Map: an open batch is added and removed under its key for every batch, and a Map that entries pass
  // through keeps its replaced tables, with the batches (and their callers) they held, alive (id-list.ts).
  private readonly open = new IdList<OpenBatch<M>>(8);
  private seq = 0;
  private closed = false;

  constructor(
    private readonly dispatch: EmbeddingBatchDispatcher<M>,
    opts: EmbeddingBatchOptions = {},
  ) {
    this.maxWaitMs = opts.maxWaitMs ?? 50;
    this.batchSize = opts.batchSize ?? 32;
    this.maxBatchTokens = opts.maxBatchTokens ?? 8192;
  }

  /** Batches formed but not yet sent. */
  get pendingBatches(): number {
    return this.open.size;
  }

  add(member: M): Promise<EmbeddingMemberResult> {
    if (this.closed) return Promise.reject(new RequestCancelledError(member.requestId, 'embedding batcher is closed'));
    if (member.signal?.aborted) return Promise.reject(new RequestCancelledError(member.requestId));
    // Token ids are counted as they are, never decoded or re-encoded.
    const tokens = member.texts.reduce((n, t) => n + (typeof t === 'string' ? countTokens(t) : t.length), 0);
    const kind = member.texts.length > 0 && typeof member.texts[0] !== 'string' ? 'ids' : 'text';
    const key = JSON.stringify([member.model, member.dimensions ?? null, member.encodingFormat ?? 'float', kind]);

    return new Promise<EmbeddingMemberResult>((resolve, reject) => {
      const w: Waiting<M> = { member, tokens, resolve, reject, detach: () => undefined, settled: false };
      let batch = this.open.get(key);
      if (batch && (batch.texts + member.texts.length > this.batchSize || batch.tokens + tokens > this.maxBatchTokens)) {
        this.flush(key);
        batch = undefined;
      }
      if (!batch) {
        batch = { key, waiting: [], texts: 0, tokens: 0, timer: setTimeout(() => this.flush(key), this.maxWaitMs) };
        this.open.set(key, batch);
      }
      batch.waiting.push(w);
      batch.texts += member.texts.length;
      batch.tokens += tokens;

      if (member.signal) {
        const onAbort = () => this.cancel(key, w);
        member.signal.addEventListener('abort', onAbort, { once: true });
        w.detach = () => member.signal?.removeEventListener('abort', onAbort);
      }
      if (batch.texts >= this.batchSize || batch.tokens >= this.maxBatchTokens) this.flush(key);
    });
  }

  /** A caller went away: drop it from a batch not yet sent, or just stop waiting for a batch in flight. */
  private cancel(key: string, w: Waiting<M>): void {
    const batch = this.open.get(key);
    if (batch) {
      const idx = batch.waiting.indexOf(w);
      if (idx >= 0) {
        batch.waiting.splice(idx, 1);
        batch.texts -= w.member.texts.length;
        batch.tokens -= w.tokens;
        if (batch.waiting.length === 0) {
          clearTimeout(batch.timer);
          this.open.delete(key);
        }
      }
    }
    this.settle(w, undefined, new RequestCancelledError(w.member.requestId));
  }

  private settle(w: Waiting<M>, result: EmbeddingMemberResult | undefined, error?: unknown): void {
    if (w.settled) return;
    w.settled = true;
    w.detach();
    if (error !== undefined) w.reject(error);
    else w.resolve(result as EmbeddingMemberResult);
  }

  private flush(key: string): void {
    const batch = this.open.get(key);
    if (!batch) return;
    this.open.delete(key);
    clearTimeout(batch.timer);
    const waiting = batch.waiting.filter((w) => !w.settled);
    if (waiting.length === 0) return;

    const controller = new AbortController();
    const first = waiting[0].member;
    const id = `embbatch-${++this.seq}`;
    const texts = waiting.flatMap((w) => w.member.texts);
    // The batch is abandoned upstream only when nobody is left to receive it.
    const abortIfAllGone = () => {
      if (waiting.every((w) => w.settled)) controller.abort(new RequestCancelledError(id, 'all callers of the batch went away'));
    };
    for (const w of waiting) w.member.signal?.addEventListener('abort', abortIfAllGone, { once: true });

    const out: EmbeddingBatch<M> = {
      id,
      model: first.model,
      dimensions: first.dimensions,
      encodingFormat: first.encodingFormat,
      texts,
      tokens: batch.tokens,
      members: waiting.map((w) => w.member),
      signal: controller.signal,
    };
    this.dispatch(out).then(
      (res) => {
        if (res.embeddings.length !== texts.length) {
          const err = new Error(`embedding batch ${id}: engine returned ${res.embeddings.length} vectors for ${texts.length} texts`);
          for (const w of waiting) this.settle(w, undefined, err);
          return;
        }
        let offset = 0;
        const usage = shareTokens(res.promptTokens, waiting.map((w) => w.tokens));
        waiting.forEach((w, i) => {
          const n = w.member.texts.length;
          this.settle(w, { embeddings: res.embeddings.slice(offset, offset + n), model: res.model, promptTokens: usage[i]!, batchId: id, batchSize: texts.length });
          offset += n;
        });
      },
      (err: unknown) => {
        for (const w of waiting) this.settle(w, undefined, err);
      },
    ).finally(() => {
      for (const w of waiting) w.member.signal?.removeEventListener('abort', abortIfAllGone);
    });
  }

  /** Sends every open batch now (used on shutdown to drain). */
  flushAll(): void {
    for (const key of this.open.keys()) this.flush(key);
  }

  /** Rejects callers still waiting in open batches; batches in flight finish normally. */
  close(): void {
    this.closed = true;
    for (const key of this.open.keys()) {
      const batch = this.open.get(key) as OpenBatch<M>;
      clearTimeout(batch.timer);
      for (const w of batch.waiting) this.settle(w, undefined, new RequestCancelledError(w.member.requestId, 'control plane is shutting down'));
    }
    this.open.clear();
  }
}

/**
 * Each member's part of the engine's prompt-token count, in proportion to the control plane's own counts (largest
 * remainder, so the parts add up to the engine's total). Without an engine count, the members' own counts.
 */
export function shareTokens(total: number | undefined, estimates: readonly number[]): number[] {
  if (total === undefined) return [...estimates];
  if (estimates.length === 1) return [total];
  const sum = estimates.reduce((a, b) => a + b, 0);
  const exact = estimates.map((e) => (sum > 0 ? (total * e) / sum : total / estimates.length));
  const parts = exact.map(Math.floor);
  let left = total - parts.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, frac: x - Math.floor(x) })).sort((a, b) => b.frac - a.frac);
  for (let k = 0; left > 0 && k < order.length; k++, left--) parts[order[k]!.i]! += 1;
  return parts;
}
