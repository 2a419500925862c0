// A request the manager holds: queued, or running on an instance. Shared by the queue/dispatch loop and the runner.
import type { EmbeddingBatchOutput } from '../batching';
import type { RequestMetadata, SchedulingDecision } from '../types';
import type { CancelTimer } from './deferred-timers';
import type { InferenceResult, InferenceStream, ResultSink } from './request';

/** json and stream: a caller's LLM request; embedding: one batch of embedding requests (F-206). */
export type Mode = 'json' | 'stream' | 'embedding';

export interface PendingRequest {
  meta: RequestMetadata;
  mode: Mode;
  extra?: Record<string, unknown>;
  signal?: AbortSignal;
  /** Instances it failed on (shared and empty until a retry). */
  excluded: ReadonlySet<string>;
  attempts: number;
  resolve: (v: InferenceResult | InferenceStream | EmbeddingBatchOutput) => void;
  reject: (e: unknown) => void;
  /** Where resolve and reject hand the outcome when the caller gave a sink rather than took a promise (submitTo). */
  sink?: ResultSink;
  /** Whether the manager's queue holds it (under its id): kept by the manager as it queues and takes it out. */
  queued: boolean;
  /** Its listener on `signal`, while it has one (the manager removes it when the request ends). */
  onAbort?: () => void;
  decision?: SchedulingDecision;
  /** Cancels the watch on a queued request's deadline (queue-watch.ts); cleared with the queue timer. */
  deadlineTimer?: CancelTimer;
  /**
   * While its queue-wait bound is armed (queue-watch.ts): when it runs out, and its neighbours in the order bounds
   * were armed in. Kept on the request itself, so that arming and disarming allocate nothing and look nothing up.
   */
  waitDue?: number;
  waitPrev?: PendingRequest;
  waitNext?: PendingRequest;
}

/**
 * A sink-settled request's resolve and reject: shared functions (called as `p.resolve(…)`, `this` is the request), so
 * such a request makes no promise, settling functions or closure. The first call settles it; any later one is
 * ignored, as a settled promise ignores it.
 */
export function resolveToSink(this: PendingRequest, v: InferenceResult | InferenceStream | EmbeddingBatchOutput): void {
  const sink = this.sink;
  if (!sink) return;
  this.sink = undefined;
  try {
    sink.answered(v as InferenceResult);
  } catch (thrown) {
    // Not into the runner, which would take it for the attempt's failure.
    void Promise.reject(thrown);
  }
}

export function rejectToSink(this: PendingRequest, err: unknown): void {
  const sink = this.sink;
  if (!sink) return;
  this.sink = undefined;
  // A failure can come inside the manager's own steps (dispatch, cancellation): the caller hears of it a microtask
  // later, as a promise's rejection handler would.
  queueMicrotask(() => {
    try {
      sink.failed(err);
    } catch (thrown) {
      void Promise.reject(thrown);
    }
  });
}
