// The F-209 metrics record of one request that reached an end, built from its metadata and outcome.
import type { RequestRecord } from '../metrics';
import type { RequestMetadata } from '../types';
import { promptTokenCount, promptTokenEstimate } from './prompt-tokens';

export interface RecordFields {
  outcome: RequestRecord['outcome'];
  errorCode?: string;
  instanceId?: string;
  policy?: string;
  queueMs?: number;
  ttftMs?: number;
  e2eMs: number;
  completionTokens?: number;
  /** The engine's own count (its usage), when it gave one; else the tokenizer's (an estimate if no engine processed it). */
  promptTokens?: number;
  /** The engine's finish_reason (stop, length, …). */
  finishReason?: string;
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);

/** What an engine's JSON answer says about the work done: its usage and why generation stopped. */
export function engineOutcome(body: Record<string, unknown>): Pick<RecordFields, 'promptTokens' | 'completionTokens' | 'finishReason'> {
  return engineOutcomeInto(body, { promptTokens: undefined, completionTokens: undefined, finishReason: undefined });
}

/** engineOutcome() written into `out` (a record's fields being made), which it returns. */
export function engineOutcomeInto<T extends Pick<RecordFields, 'promptTokens' | 'completionTokens' | 'finishReason'>>(body: Record<string, unknown>, out: T): T {
  const usage = body.usage as { prompt_tokens?: unknown; completion_tokens?: unknown } | null | undefined;
  let finishReason: string | undefined;
  if (Array.isArray(body.choices)) {
    // Several choices (n > 1, a prompt list): 'length' if any was cut, else the first reason given.
    for (const c of body.choices as Array<{ finish_reason?: unknown }>) {
      if (typeof c?.finish_reason !== 'string') continue;
      if (finishReason === undefined || c.finish_reason === 'length') finishReason = c.finish_reason;
    }
  }
  out.promptTokens = num(usage?.prompt_tokens);
  out.completionTokens = num(usage?.completion_tokens);
  out.finishReason = finishReason;
  return out;
}

export function toRequestRecord(meta: RequestMetadata, r: RecordFields): RequestRecord {
  const ttftMs = r.ttftMs;
  const tokens = r.completionTokens ?? 0;
  return {
    requestId: meta.id,
    outcome: r.outcome,
    priority: meta.priority,
    model: meta.model,
    instanceId: r.instanceId,
    queueWaitMs: r.queueMs,
    ttftMs,
    tpotMs: ttftMs !== undefined && tokens > 1 ? (r.e2eMs - ttftMs) / (tokens - 1) : undefined,
    e2eMs: r.e2eMs,
    promptTokens: r.promptTokens ?? (r.outcome === 'completed' ? promptTokenCount(meta) : promptTokenEstimate(meta)),
    completionTokens: tokens,
    finishReason: r.finishReason,
    sloDeadlineMs: meta.sloDeadlineMs,
    ttftDeadlineMs: meta.ttftDeadlineMs,
    rejectionCode: r.outcome === 'rejected' ? r.errorCode : undefined,
  };
}
