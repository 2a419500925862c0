// Embedding requests through the batcher (F-206): each caller's texts join a batch, a batch is queued as ONE
// request (the most urgent member's priority, the earliest deadline), and each member gets its own result
// and its own metrics record, with the batch's scheduling decision stated for it.
import { EmbeddingBatcher, batchTags, type EmbeddingBatch, type EmbeddingBatchOptions, type EmbeddingBatchOutput, type EmbeddingMember } from '../batching';
import { RequestPriority, RequestStatus, RequestType, type RequestMetadata, type SchedulingDecision } from '../types';
import { RequestCancelledError } from './errors';
import type { InferenceRequest, InferenceResult } from './request';
import type { RecordFields } from './request-record';

/** Where and how a batch was scheduled, noted when it starts running. */
export interface BatchScheduling {
  instanceId?: string;
  policy?: string;
  scheduledAt?: number;
  decision?: SchedulingDecision;
}

export interface EmbeddingRequestsOptions {
  batching: EmbeddingBatchOptions & { enabled?: boolean };
  /** Queues a batch as one internal request. */
  enqueue: (meta: RequestMetadata, request: Pick<InferenceRequest, 'extraBody' | 'signal'>) => Promise<EmbeddingBatchOutput>;
  record: (meta: RequestMetadata, fields: RecordFields) => void;
  policyName: () => string;
}

/**
 * A caller's part of a batch. It carries the caller's metadata, and its batch's scheduling once the batch is queued,
 * so that neither is looked up by id: a Map that every request (or batch) is added to and deleted from keeps its
 * replaced tables, and the requests they held, alive through young collections (id-list.ts).
 */
interface Member extends EmbeddingMember {
  meta: RequestMetadata;
  scheduling?: BatchScheduling;
}

export class EmbeddingRequests {
  private readonly batcher: EmbeddingBatcher<Member>;
  /** Each queued batch's scheduling, under the batch's own metadata; a WeakMap lets it go with the batch. */
  private readonly batches = new WeakMap<RequestMetadata, BatchScheduling>();

  constructor(private readonly o: EmbeddingRequestsOptions) {
    const emb = o.batching;
    this.batcher = new EmbeddingBatcher<Member>((batch) => this.enqueueBatch(batch), emb.enabled === false ? { maxWaitMs: 0, batchSize: 1 } : emb);
  }

  async submit(meta: RequestMetadata, request: InferenceRequest): Promise<InferenceResult> {
    const extra = request.extraBody ?? {};
    const dimensions = typeof extra.dimensions === 'number' ? extra.dimensions : undefined;
    const encodingFormat = extra.encoding_format === 'base64' ? 'base64' : extra.encoding_format === 'float' ? 'float' : undefined;
    const texts = meta.embeddingTokenIds ?? meta.embeddingTexts ?? [];
    const member: Member = { requestId: meta.id, model: meta.model, texts, dimensions, encodingFormat, signal: request.signal, meta };
    try {
      const r = await this.batcher.add(member);
      const now = Date.now();
      const info = member.scheduling;
      const body: Record<string, unknown> = {
        object: 'list',
        data: r.embeddings.map((embedding, index) => ({ object: 'embedding', index, embedding })),
        model: r.model,
        usage: { prompt_tokens: r.promptTokens, total_tokens: r.promptTokens },
      };
      const queueMs = info?.scheduledAt !== undefined ? info.scheduledAt - meta.timestamps.arrival : 0;
      this.o.record(meta, { outcome: 'completed', instanceId: info?.instanceId, policy: info?.policy, queueMs, e2eMs: now - meta.timestamps.arrival, completionTokens: 0, promptTokens: r.promptTokens });
      return {
        requestId: meta.id,
        instanceId: info?.instanceId ?? '',
        // The batch's decision, stated for this member (its own id; the batch named by batchId). Object.assign, not
        // `{ ...decision, requestId }`: on this V8 an object spread followed by more properties gets a map of its own
        // each time once optimised, and every such object outlived young collections.
        decision: Object.assign({}, info?.decision ?? { instanceId: info?.instanceId ?? '', estimatedLatencyMs: 0, reason: `embedding batch ${r.batchId}`, policy: this.o.policyName() }, { requestId: meta.id, batchId: r.batchId }),
        body,
        timings: { queueMs, e2eMs: now - meta.timestamps.arrival },
      };
    } catch (err) {
      this.o.record(meta, { outcome: err instanceof RequestCancelledError ? 'cancelled' : 'failed', errorCode: (err as { code?: string }).code, e2eMs: Date.now() - meta.timestamps.arrival, completionTokens: 0 });
      throw err;
    }
  }

  /** Notes where a batch (queued as `batch`) was scheduled; no-op for other requests. */
  noteScheduled(batch: RequestMetadata, scheduling: BatchScheduling): void {
    const info = this.batches.get(batch);
    if (info) Object.assign(info, scheduling);
  }

  close(): void {
    this.batcher.close();
  }

  /** The batcher's dispatcher: a batch becomes one queued request of the most urgent member's priority and the earliest deadline. */
  private enqueueBatch(batch: EmbeddingBatch<Member>): Promise<EmbeddingBatchOutput> {
    const members = batch.members.map((m) => m.meta);
    const arrival = Math.min(...members.map((m) => m.timestamps.arrival), Date.now());
    const deadlines = members.map((m) => (m.sloDeadlineMs === undefined ? undefined : m.timestamps.arrival + m.sloDeadlineMs - arrival)).filter((d): d is number => d !== undefined);
    const meta: RequestMetadata = {
      id: batch.id,
      type: RequestType.EMBEDDING,
      model: batch.model,
      priority: members.length > 0 ? (Math.min(...members.map((m) => m.priority)) as RequestMetadata['priority']) : RequestPriority.NORMAL,
      sloDeadlineMs: deadlines.length ? Math.min(...deadlines) : undefined,
      ...(typeof batch.texts[0] === 'string' ? { embeddingTexts: batch.texts as string[] } : { embeddingTokenIds: batch.texts as number[][] }),
      promptTokens: batch.tokens,
      // A batch of one carries its caller's request id to the engine; a shared batch goes under its own id.
      clientRequestId: members.length === 1 ? (members[0]!.clientRequestId ?? members[0]!.id) : undefined,
      status: RequestStatus.PENDING,
      timestamps: { arrival },
      tags: batchTags(batch),
    };
    const extra: Record<string, unknown> = {};
    if (batch.dimensions !== undefined) extra.dimensions = batch.dimensions;
    if (batch.encodingFormat !== undefined) extra.encoding_format = batch.encodingFormat;
    const scheduling: BatchScheduling = {};
    this.batches.set(meta, scheduling);
    for (const m of batch.members) m.scheduling = scheduling;
    return this.o.enqueue(meta, { extraBody: extra, signal: batch.signal });
  }
}
