// The F-209 metrics record of one request that reached an end, built from its metadata and outcome.
import type { RequestRecord } from '../metrics';
import type { RequestMetadata } from '../types';

export interface RecordFields {
  outcome: RequestRecord['outcome'];
  errorCode?: string;
  instanceId?: string;
  policy?: string;
  queueMs?: number;
  ttftMs?: number;
  e2eMs: number;
  completionTokens?: number;
}

export function toRequestRecord(meta: RequestMetadata, r: RecordFields): RequestRecord {
  const ttftMs = r.ttftMs;
  const tokens = r.completionTokens ?? 0;
  return {
    requestId: meta.id,
    outcome: r.outcome,
    priority: meta.priority,
    instanceId: r.instanceId,
    queueWaitMs: r.queueMs,
    ttftMs,
    tpotMs: ttftMs !== undefined && tokens > 1 ? (r.e2eMs - ttftMs) / (tokens - 1) : undefined,
    e2eMs: r.e2eMs,
    promptTokens: meta.promptTokens ?? 0,
    completionTokens: tokens,
    sloDeadlineMs: meta.sloDeadlineMs,
    ttftDeadlineMs: meta.ttftDeadlineMs,
    rejectionCode: r.outcome === 'rejected' ? r.errorCode : undefined,
  };
}
