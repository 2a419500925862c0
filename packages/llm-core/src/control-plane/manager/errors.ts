// Typed errors of the control plane. Each is a SageError carrying an HTTP status, an OpenAI error type and a
// code, so the server maps them to responses by those fields, without string matching (F-203, F-304).
import { SageError } from '@sage/common';

export type ControlPlaneErrorType = 'rate_limit_error' | 'service_unavailable' | 'invalid_request_error' | 'upstream_error' | 'timeout_error' | 'cancelled';

export class ControlPlaneError extends SageError {
  declare readonly type: ControlPlaneErrorType;
  readonly requestId?: string;

  constructor(
    message: string,
    opts: { status: number; type: ControlPlaneErrorType; code: string; param?: string; requestId?: string; retryAfterSec?: number; cause?: unknown },
  ) {
    super(message, { status: opts.status, type: opts.type, code: opts.code, param: opts.param, retryAfterSeconds: opts.retryAfterSec, cause: opts.cause });
    this.requestId = opts.requestId;
  }

  /** Seconds to wait before trying again (the Retry-After the server sends). */
  get retryAfterSec(): number | undefined {
    return this.retryAfterSeconds;
  }
}

/** Admission control or the policy refused the request (queue_full → 429; deadline_infeasible, no_instance → 503). */
export class RequestRejectedError extends ControlPlaneError {
  constructor(code: string, reason: string, requestId?: string, retryAfterSec?: number) {
    const status = code === 'queue_full' ? 429 : code === 'invalid_request' ? 400 : 503;
    const type: ControlPlaneErrorType = status === 429 ? 'rate_limit_error' : status === 400 ? 'invalid_request_error' : 'service_unavailable';
    // A refusal is an answer, not a fault: no stack trace is captured for it (a storm makes thousands a second,
    // and the capture was about a tenth of the control plane's cost of a refusal in a storm's CPU profile).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(reason, { status, type, code, requestId, retryAfterSec });
    Error.stackTraceLimit = limit;
  }
}

/** The caller went away (its AbortSignal fired) or the manager was closed. */
export class RequestCancelledError extends ControlPlaneError {
  constructor(requestId: string | undefined, reason = 'request cancelled') {
    super(reason, { status: 499, type: 'cancelled', code: 'request_cancelled', requestId });
  }
}

/** An engine failed or answered with an error. `beforeFirstByte` tells whether a retry elsewhere is safe. */
export class UpstreamError extends ControlPlaneError {
  readonly instanceId: string;
  readonly upstreamStatus?: number;
  readonly beforeFirstByte: boolean;
  /** True for connection-level failures (refused, reset before any answer): the engine is likely down. */
  readonly connectionFailure: boolean;
  readonly upstreamBody?: unknown;

  constructor(
    message: string,
    opts: { instanceId: string; upstreamStatus?: number; beforeFirstByte: boolean; connectionFailure?: boolean; upstreamBody?: unknown; requestId?: string; cause?: unknown; timeout?: boolean },
  ) {
    // Engine 4xx answers are the caller's fault and keep their status; anything else is a 502 (504 on timeout).
    const clientError = opts.upstreamStatus !== undefined && opts.upstreamStatus >= 400 && opts.upstreamStatus < 500;
    const status = opts.timeout ? 504 : clientError ? (opts.upstreamStatus as number) : 502;
    // The caller learns which engine failed, never its address or key.
    super(message.includes(opts.instanceId) ? message : `engine ${opts.instanceId}: ${message}`, {
      status,
      type: opts.timeout ? 'timeout_error' : clientError ? 'invalid_request_error' : 'upstream_error',
      code: opts.timeout ? 'upstream_timeout' : clientError ? 'upstream_rejected' : 'upstream_failed',
      requestId: opts.requestId,
      cause: opts.cause,
    });
    this.instanceId = opts.instanceId;
    this.upstreamStatus = opts.upstreamStatus;
    this.beforeFirstByte = opts.beforeFirstByte;
    this.connectionFailure = opts.connectionFailure ?? false;
    this.upstreamBody = opts.upstreamBody;
  }

  /** Safe and useful to retry on another instance: nothing reached the caller and it is not the caller's fault. */
  get retryable(): boolean {
    if (!this.beforeFirstByte) return false;
    if (this.upstreamStatus === undefined) return true;
    return this.upstreamStatus >= 500 || this.upstreamStatus === 429;
  }
}

/** The request itself is wrong (coded like the classifier's validation; `param` names the field). */
export class InvalidRequestError extends ControlPlaneError {
  constructor(code: string, message: string, param?: string, requestId?: string) {
    super(message, { status: code === 'unknown_model' || code === 'model_not_found' ? 404 : 400, type: 'invalid_request_error', code, param, requestId });
  }
}
