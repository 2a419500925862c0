// hybrid: LLM and embedding work together. Embedding requests of the same model are grouped into batches
// (bounded by texts and tokens; a batch takes one slot and every request in it gets the same instance and
// batchId) and placed on EMBEDDING instances first, LLM_EMBEDDING (shared) instances second. LLM requests
// are scheduled by a configurable fallback policy on what is left. `embeddingPriority` orders the two:
//   high     embeddings first, LLM work gets what remains
//   low      embeddings only on dedicated EMBEDDING instances, then LLM work, then leftovers for embeddings
//   normal   shared slots split in proportion to demand (embedding batches vs LLM requests), then LLM
//            work, then leftovers for embeddings
//   adaptive low while urgent or deadline LLM work waits; high once an embedding has waited adaptiveWaitMs;
//            normal otherwise
import { instanceRank, requestClassifier } from '../classifier/request-classifier';
import { InstanceType, RequestPriority, RequestType, type ExecutionInstance, type PolicyResult, type RequestMetadata, type SchedulingContext, type SchedulingPolicy } from '../types';
import { CapacityView } from './capacity';
import { absoluteDeadline, absoluteTtftDeadline, byArrival, decide, noInstance, routeAmong, sortedBy, uniqueById, type BasePolicyOptions } from './policy-helpers';
import { hasDiscipline, llmOnly, type QueueDiscipline, type QueueShape } from './discipline';
import { serviceOrder } from './service-order';

export const EMBEDDING_PRIORITIES = ['high', 'normal', 'low', 'adaptive'] as const;
export type EmbeddingPriority = (typeof EMBEDDING_PRIORITIES)[number];

export interface HybridOptions extends BasePolicyOptions {
  /** How embedding work is ordered against LLM work (default 'normal'). */
  embeddingPriority?: EmbeddingPriority;
  /** Most texts in one embedding batch (default 32). */
  embeddingBatchSize?: number;
  /** Most tokens in one embedding batch (default 8,192; a single larger request still forms its own batch). */
  embeddingTokenBudget?: number;
  /** Under 'adaptive', an embedding waiting this long gets priority (default 200 ms). */
  adaptiveWaitMs?: number;
}

interface Batch {
  id: string;
  model: string;
  requests: RequestMetadata[];
  texts: number;
  tokens: number;
}

const textsOf = (r: RequestMetadata) => Math.max(1, r.embeddingTexts?.length ?? r.embeddingTokenIds?.length ?? 0);
const tokensOf = (r: RequestMetadata) => r.promptTokens ?? Math.ceil((r.embeddingTexts ?? []).reduce((s, t) => s + t.length, 0) / 4);

export class HybridPolicy implements SchedulingPolicy {
  readonly name = 'hybrid';
  private readonly embeddingPriority: EmbeddingPriority;
  private readonly batchSize: number;
  private readonly tokenBudget: number;
  private readonly adaptiveWaitMs: number;

  constructor(
    private readonly fallback: SchedulingPolicy,
    private readonly options: HybridOptions = {},
  ) {
    if (fallback.name === 'hybrid') throw new Error('hybrid cannot use hybrid as its LLM fallback policy');
    this.embeddingPriority = options.embeddingPriority ?? 'normal';
    if (!EMBEDDING_PRIORITIES.includes(this.embeddingPriority)) {
      throw new Error(`unknown embeddingPriority "${String(options.embeddingPriority)}"; valid: ${EMBEDDING_PRIORITIES.join(', ')}`);
    }
    this.batchSize = options.embeddingBatchSize ?? 32;
    this.tokenBudget = options.embeddingTokenBudget ?? 8_192;
    this.adaptiveWaitMs = options.adaptiveWaitMs ?? 200;
  }

  get fallbackPolicy(): string {
    return this.fallback.name;
  }

  /** The embedding priority in effect for this queue (resolves 'adaptive'). */
  resolvePriority(embeddings: readonly RequestMetadata[], llm: readonly RequestMetadata[], now: number): Exclude<EmbeddingPriority, 'adaptive'> {
    if (this.embeddingPriority !== 'adaptive') return this.embeddingPriority;
    const urgentLlm = llm.some((r) => r.priority <= RequestPriority.HIGH || absoluteDeadline(r) !== undefined || absoluteTtftDeadline(r) !== undefined);
    if (urgentLlm) return 'low';
    const oldest = Math.min(...embeddings.map((r) => r.timestamps.arrival));
    if (embeddings.length > 0 && now - oldest >= this.adaptiveWaitMs) return 'high';
    return 'normal';
  }

  /** The fallback's order for LLM work; embeddings before it when they have priority, after it otherwise (as order()). */
  discipline(shape: QueueShape, now: number): QueueDiscipline | undefined {
    if (!hasDiscipline(this.fallback)) return undefined;
    const inner = this.fallback.discipline(llmOnly(shape), now);
    if (!inner) return undefined;
    let mode = this.embeddingPriority;
    if (mode === 'adaptive') {
      const urgentLlm = shape.llmWithDeadline > 0 || shape.llmByPriority.some((n, p) => n > 0 && p <= RequestPriority.HIGH);
      mode = urgentLlm ? 'low' : shape.embeddings > 0 && now - shape.oldestEmbeddingArrival >= this.adaptiveWaitMs ? 'high' : 'normal';
    }
    return { order: inner.order, embeddings: mode === 'high' ? 'first' : 'last' };
  }

  /** Same-model embedding requests in arrival order, cut into batches by text count and token budget. */
  batches(embeddings: readonly RequestMetadata[]): Batch[] {
    const open = new Map<string, Batch>();
    const all: Batch[] = [];
    for (const r of sortedBy(embeddings, byArrival)) {
      let b = open.get(r.model);
      if (b && (b.texts + textsOf(r) > this.batchSize || b.tokens + tokensOf(r) > this.tokenBudget)) b = undefined;
      if (!b) {
        b = { id: `batch:${r.id}`, model: r.model, requests: [], texts: 0, tokens: 0 };
        open.set(r.model, b);
        all.push(b);
      }
      b.requests.push(r);
      b.texts += textsOf(r);
      b.tokens += tokensOf(r);
    }
    return all;
  }

  /**
   * LLM requests in the fallback policy's order; embeddings in arrival order, before them when embeddings have
   * priority ('high', or 'adaptive' resolved to it) and after them otherwise. 'normal' shares slots in
   * proportion to demand; counting embeddings after LLM work there errs on the side of admitting.
   */
  order(queue: readonly RequestMetadata[], now: number): RequestMetadata[] {
    const embeddings = queue.filter((r) => r.type === RequestType.EMBEDDING);
    const llm = queue.filter((r) => r.type !== RequestType.EMBEDDING);
    const llmOrder = serviceOrder(this.fallback, llm, now);
    const embOrder = sortedBy(embeddings, byArrival);
    return this.resolvePriority(embeddings, llm, now) === 'high' ? [...embOrder, ...llmOrder] : [...llmOrder, ...embOrder];
  }

  schedule(queue: readonly RequestMetadata[], ctx: SchedulingContext): PolicyResult {
    const classifier = this.options.classifier ?? requestClassifier;
    const unique = uniqueById(queue);
    const embeddings = unique.filter((r) => r.type === RequestType.EMBEDDING);
    const llm = unique.filter((r) => r.type !== RequestType.EMBEDDING);
    const result: PolicyResult = { decisions: [], rejections: [] };
    const cap = new CapacityView(ctx.instances);
    let pending = this.batches(embeddings);
    const mode = this.resolvePriority(embeddings, llm, ctx.now);

    const isShared = (i: ExecutionInstance) => i.type !== InstanceType.EMBEDDING;
    const runEmbeddings = (sharedQuota: number) => {
      const left: Batch[] = [];
      let usedShared = 0;
      for (const batch of pending) {
        const compat = classifier.compatibleInstances(RequestType.EMBEDDING, ctx.instances, batch.model);
        if (compat.length === 0) {
          if (this.options.rejectUnroutable) result.rejections.push(...batch.requests.map(noInstance));
          else left.push(batch);
          continue;
        }
        const available = cap.available(compat).filter((i) => !isShared(i) || usedShared < sharedQuota);
        if (available.length === 0) {
          left.push(batch);
          continue;
        }
        // compatibleInstances ranks EMBEDDING before LLM_EMBEDDING: stay within the best tier that has room.
        const rank = (i: ExecutionInstance) => instanceRank(RequestType.EMBEDDING, i.type) ?? Infinity;
        const bestRank = Math.min(...available.map(rank));
        const instance = routeAmong(ctx, batch.requests[0], available.filter((i) => rank(i) === bestRank));
        if (!instance) {
          left.push(batch);
          continue;
        }
        cap.take(instance.id);
        if (isShared(instance)) usedShared += 1;
        for (const r of batch.requests) {
          const d = decide(ctx, r, instance, this.name, `hybrid: embedding batch of ${batch.requests.length} (${batch.texts} texts), priority ${mode}`);
          result.decisions.push({ ...d, batchId: batch.id });
        }
      }
      pending = left;
    };
    const runLlm = () => {
      if (llm.length === 0) return;
      const inner = this.fallback.schedule(llm, { ...ctx, instances: cap.all() });
      for (const d of inner.decisions) {
        cap.take(d.instanceId);
        result.decisions.push({ ...d, policy: `${this.name}→${d.policy}` });
      }
      result.rejections.push(...inner.rejections);
    };

    if (mode === 'high') {
      runEmbeddings(Infinity);
      runLlm();
    } else {
      let quota = 0;
      if (mode === 'normal' && pending.length > 0) {
        const sharedFree = ctx.instances
          .filter((i) => isShared(i) && i.supportedRequestTypes.includes(RequestType.EMBEDDING))
          .reduce((s, i) => s + cap.free(i.id), 0);
        quota = Math.ceil((sharedFree * pending.length) / (pending.length + llm.length));
      }
      runEmbeddings(quota);
      runLlm();
      runEmbeddings(Infinity);
    }
    return result;
  }
}
