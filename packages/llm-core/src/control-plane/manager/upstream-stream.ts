// The caller's view of an engine stream whose first chunk is already in hand: it counts completion tokens,
// reports exactly one end (completed, failed, or cancelled — by the caller's abort, shutdown, or a consumer
// that stopped reading) and closes the upstream whenever the caller stops early.
import type { SchedulingDecision } from '../types';
import { RequestCancelledError } from './errors';
import type { InferenceStream } from './request';
import type { StreamCut } from './stream-cut';

export interface StreamEnd {
  /** Undefined when the engine finished the stream. */
  error?: unknown;
  /** Cut by an abort or a consumer that stopped reading — no verdict on the engine. */
  cancelled: boolean;
  completionTokens: number;
  /** From the engine's usage chunk, when it sent one. */
  promptTokens?: number;
  /** The last finish_reason the engine gave. */
  finishReason?: string;
}

export interface UpstreamStreamOptions {
  requestId: string;
  instanceId: string;
  prefillInstanceId?: string;
  decision: SchedulingDecision;
  first: IteratorResult<Record<string, unknown>>;
  rest: AsyncIterator<Record<string, unknown>>;
  /** The caller's abort or shutdown. */
  cut: Pick<StreamCut, 'aborted' | 'whenCut'>;
  shutdown: AbortSignal;
  onEnd: (end: StreamEnd) => void;
}

export function wrapUpstreamStream(o: UpstreamStreamOptions): InferenceStream {
  const { requestId, first, rest, cut, shutdown } = o;
  let finished = false;
  let completionTokens = 0;
  let promptTokens: number | undefined;
  let finishReason: string | undefined;
  let abortError: RequestCancelledError | undefined;
  const closeUpstream = () => Promise.resolve(rest.return?.(undefined)).catch(() => undefined);
  /** `consumerGone`: the consumer stopped reading — a cancellation, not an engine failure. */
  const finish = (err?: unknown, consumerGone = false) => {
    if (finished) return;
    finished = true;
    o.onEnd(err === undefined ? { cancelled: false, completionTokens, promptTokens, finishReason } : { error: err, cancelled: consumerGone || cut.aborted, completionTokens, promptTokens });
  };
  // The caller (or shutdown) may abort while nobody reads — e.g. between submitStream and the first next():
  // nothing would ever notice the cut upstream, so the slot is freed and the upstream closed here.
  function onAbort(): void {
    if (finished) return;
    abortError = new RequestCancelledError(requestId, shutdown.aborted ? 'control plane is shutting down' : 'request cancelled');
    void closeUpstream();
    finish(abortError);
  }
  cut.whenCut(onAbort);
  const abandon = async () => {
    if (finished) return;
    await closeUpstream();
    finish(new RequestCancelledError(requestId, 'stream consumer stopped'), true);
  };
  const count = (chunk: Record<string, unknown>) => {
    const usage = chunk.usage as { completion_tokens?: number; prompt_tokens?: number } | undefined | null;
    if (usage?.completion_tokens !== undefined) {
      completionTokens = usage.completion_tokens;
      promptTokens = usage.prompt_tokens;
    } else if (Array.isArray(chunk.choices) && chunk.choices.length > 0) completionTokens += 1;
    const reason = Array.isArray(chunk.choices) ? (chunk.choices[0] as { finish_reason?: unknown } | undefined)?.finish_reason : undefined;
    if (typeof reason === 'string') finishReason = reason;
  };
  async function* gen(): AsyncGenerator<Record<string, unknown>> {
    try {
      if (abortError) throw abortError;
      if (!first.done) {
        count(first.value);
        yield first.value;
        for (;;) {
          const n = await rest.next();
          if (n.done) break;
          count(n.value);
          yield n.value;
        }
      }
      if (abortError) throw abortError;
      finish();
    } catch (err) {
      finish(err);
      throw abortError ?? err;
    } finally {
      // The consumer stopped early (return() after a next()): abort the upstream stream and free the slot.
      await abandon();
    }
  }
  const g = gen();
  let started = false;
  // A generator closed before its first next() skips its own finally: such a stream is abandoned here.
  const iterator: AsyncIterableIterator<Record<string, unknown>> = {
    next: () => {
      started = true;
      return g.next();
    },
    return: async (value?: unknown) => {
      if (!started) await abandon();
      return g.return(value as undefined);
    },
    throw: async (e?: unknown) => {
      if (!started) await abandon();
      return g.throw(e);
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return {
    requestId,
    instanceId: o.instanceId,
    prefillInstanceId: o.prefillInstanceId,
    decision: o.decision,
    [Symbol.asyncIterator]: () => iterator,
  };
}
