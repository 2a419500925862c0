// The one retry / timeout / cancellation policy (F-106), shared by the intelligent clients and ModelClient.
// The openai SDK's own retries are turned off (maxRetries: 0) so that this is the only policy in force.
//
// Retried: connection failures, 408, 429 (waiting what Retry-After asks), 5xx — with exponential backoff
// and full jitter, up to `maxAttempts`. Never retried: other 4xx (the input is wrong; asking again won't help),
// the caller's abort, and the call's own deadline (`timeoutMs` bounds the whole call, retries included).
import * as sdk from 'openai';
import { APIError, LLMError } from '../types/errors';

export interface RetryPolicy {
  /** Total attempts including the first (>= 1). */
  maxAttempts: number;
  /** Backoff before retry n is a random value in [base·2^(n-1)/2, base·2^(n-1)], capped at maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the error is returned instead. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 250, maxDelayMs: 8_000, maxRetryAfterMs: 60_000 };
export const DEFAULT_TIMEOUT_MS = 120_000;

/** The caller aborted the call through its AbortSignal. */
export class RequestAbortedError extends LLMError {
  constructor(cause?: unknown) {
    super('the request was aborted by the caller', { cause, status: 499, code: 'request_cancelled' });
  }
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Deadline for the whole call, retries included. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Called before each retry (for logs and tests). */
  onRetry?: (info: { attempt: number; delayMs: number; error: APIError }) => void;
  /**
   * Errors for which retrying here is pointless and the caller has a better move (an auto-detected client
   * re-detects its endpoint on a connection failure instead of hammering a dead one).
   */
  giveUpOn?: (error: APIError) => boolean;
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date). */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - now) / 1000);
}

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** True for failures to reach the server at all (refused, reset, DNS), as opposed to an HTTP error answer. */
export function isConnectionError(error: APIError): boolean {
  return !error.answered && error.code === 'connection_error';
}

/** Any thrown value as our APIError (or RequestAbortedError), classified retryable or not. */
export function toAPIError(err: unknown): APIError | RequestAbortedError {
  if (err instanceof APIError || err instanceof RequestAbortedError) return err;
  if (err instanceof sdk.APIUserAbortError) return new RequestAbortedError(err);
  if (err instanceof sdk.APIConnectionTimeoutError) {
    return new APIError('request timed out', { code: 'timeout', retryable: true, cause: err });
  }
  if (err instanceof sdk.APIConnectionError) {
    const detail = describeCause(err.cause);
    return new APIError(`connection error${detail ? `: ${detail}` : ''}`, { code: 'connection_error', retryable: true, cause: err });
  }
  if (err instanceof sdk.APIError && typeof err.status === 'number') {
    const body = err.error as { message?: unknown; code?: unknown } | undefined;
    const message = typeof body?.message === 'string' ? body.message : err.message;
    const code = typeof err.code === 'string' ? err.code : typeof body?.code === 'string' ? body.code : null;
    return new APIError(`HTTP ${err.status}: ${message}`, {
      status: err.status,
      code,
      retryable: isRetryableStatus(err.status),
      retryAfterSeconds: parseRetryAfter(err.headers?.get('retry-after')),
      cause: err,
    });
  }
  if (err instanceof Error && err.name === 'AbortError') return new RequestAbortedError(err);
  return new APIError(err instanceof Error ? err.message : String(err), { retryable: false, cause: err });
}

function describeCause(cause: unknown): string {
  let c = cause;
  // fetch wraps the socket error: TypeError('fetch failed', { cause: Error('connect ECONNREFUSED ...') })
  while (c instanceof Error && c.cause instanceof Error) c = c.cause;
  return c instanceof Error ? c.message : '';
}

function backoffMs(policy: RetryPolicy, retryNumber: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retryNumber - 1));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A signal that fires on the caller's abort or at the deadline, and how to tell which happened. */
export function callSignal(opts: Pick<CallOptions, 'signal' | 'timeoutMs'>): { signal: AbortSignal; timedOut: () => boolean; userAborted: () => boolean } {
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  return { signal, timedOut: () => timeout.aborted && !opts.signal?.aborted, userAborted: () => opts.signal?.aborted === true };
}

/**
 * Runs `attempt(signal)` under the policy. `signal` fires on the caller's abort or the deadline and must be
 * passed to the request. Resolves with the first success; rejects with an APIError or RequestAbortedError.
 */
export async function withRetry<T>(attempt: (signal: AbortSignal, attemptNumber: number) => Promise<T>, opts: CallOptions = {}): Promise<T> {
  const policy = { ...DEFAULT_RETRY_POLICY, ...opts.retry };
  const maxAttempts = Math.max(1, Math.floor(policy.maxAttempts));
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const started = Date.now();
  const call = callSignal({ signal: opts.signal, timeoutMs });

  const classify = (err: unknown): APIError | RequestAbortedError => {
    if (call.userAborted()) return new RequestAbortedError(err);
    if (call.timedOut()) return new APIError(`request timed out after ${timeoutMs} ms`, { code: 'timeout', retryable: false, cause: err });
    return toAPIError(err);
  };

  for (let n = 1; ; n++) {
    try {
      if (call.signal.aborted) throw call.signal.reason;
      return await attempt(call.signal, n);
    } catch (err) {
      const error = classify(err);
      if (error instanceof RequestAbortedError || !error.retryable || n >= maxAttempts || opts.giveUpOn?.(error)) throw error;
      let delayMs = backoffMs(policy, n);
      if (error.retryAfterSeconds !== undefined) {
        const asked = error.retryAfterSeconds * 1000;
        if (asked > policy.maxRetryAfterMs) throw error;
        delayMs = asked;
      }
      if (Date.now() - started + delayMs >= timeoutMs) throw error; // would wake up past the deadline
      opts.onRetry?.({ attempt: n, delayMs, error });
      try {
        await sleep(delayMs, call.signal);
      } catch (sleepErr) {
        throw classify(sleepErr);
      }
    }
  }
}
