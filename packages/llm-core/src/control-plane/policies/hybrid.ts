// hybrid: LLM and embedding work together. Embedding requests — batches the EmbeddingBatcher formed, which owns
// batching; this policy only asks which batch a request is — take one slot each and go to EMBEDDING instances
// first, LLM_EMBEDDING (shared) instances second. LLM requests are scheduled by a configurable fallback policy on
// what is left. `embeddingPriority` orders the two:
//   high     embeddings first, LLM work gets what remains
//   low      embeddings only on dedicated EMBEDDING instances, then LLM work, then leftovers for embeddings
//   normal   shared slots split in proportion to demand (embedding batches vs LLM requests), then LLM
//            work, then leftovers for embeddings
//   adaptive low while urgent or deadline LLM work waits; high once an embedding has waited adaptiveWaitMs;
//            normal otherwise
import { queuedBatchOf } from '../batching/queued-batch';
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
  /** Under 'adaptive', an embedding waiting this long gets priority (default 200 ms). */
  adaptiveWaitMs?: number;
}

/** How a decision describes the embedding work it placed: the batcher's batch, or a lone request. */
function embeddingWork(r: RequestMetadata): string {
  const batch = queuedBatchOf(r);
  const texts = r.embeddingTexts?.length ?? r.embeddingTokenIds?.length ?? 0;
  return batch ? `embedding batch ${batch.id} of ${batch.members} request${batch.members === 1 ? '' : 's'} (${texts} texts)` : `embedding request (${texts} texts)`;
}

export class HybridPolicy implements SchedulingPolicy {
  readonly name = 'hybrid';
  private readonly embeddingPriority: EmbeddingPriority;
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
    this.adaptiveWaitMs = options.adaptiveWaitMs ?? 200;
  }

  /** LLM work is the fallback's: its deadlines are judged when the fallback judges them. */
  get judgesDeadlines(): boolean {
    return this.fallback.judgesDeadlines !== false;
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
    let pending = sortedBy(embeddings, byArrival);
    const mode = this.resolvePriority(embeddings, llm, ctx.now);

    const isShared = (i: ExecutionInstance) => i.type !== InstanceType.EMBEDDING;
    const runEmbeddings = (sharedQuota: number) => {
      const left: RequestMetadata[] = [];
      let usedShared = 0;
      for (const r of pending) {
        const compat = classifier.compatibleInstances(RequestType.EMBEDDING, ctx.instances, r.model);
        if (compat.length === 0) {
          if (this.options.rejectUnroutable) result.rejections.push(noInstance(r));
          else left.push(r);
          continue;
        }
        const available = cap.available(compat).filter((i) => !isShared(i) || usedShared < sharedQuota);
        if (available.length === 0) {
          left.push(r);
          continue;
        }
        // compatibleInstances ranks EMBEDDING before LLM_EMBEDDING: stay within the best tier that has room.
        const rank = (i: ExecutionInstance) => instanceRank(RequestType.EMBEDDING, i.type) ?? Infinity;
        const bestRank = Math.min(...available.map(rank));
        const instance = routeAmong(ctx, r, available.filter((i) => rank(i) === bestRank));
        if (!instance) {
          left.push(r);
          continue;
        }
        cap.take(instance.id);
        if (isShared(instance)) usedShared += 1;
        const d = decide(ctx, r, instance, this.name, `hybrid: ${embeddingWork(r)}, priority ${mode}`);
        const batch = queuedBatchOf(r);
        result.decisions.push(batch ? { ...d, batchId: batch.id } : d);
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
