// Errors the gateway raises on purpose carry their HTTP status and OpenAI error code (SageError), so every edge
// (HTTP routes, the bin) reports them the same way.
import { APIError, SageError } from '@sage/common';

export class GatewayError extends SageError {
  constructor(status: number, message: string, code: string, param: string | null = null, options: { cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(message, { status, code, param, ...options });
  }
}

/**
 * A model server's failure as the gateway answers it. A 400/413/429 concerns what the caller sent (e.g. a
 * conversation longer than the model's context) and stays theirs; anything else upstream (auth, unknown model,
 * 5xx, no answer) is the gateway's configuration or the server's failure: a bad gateway (504 on a timeout).
 */
export function asGatewayError(err: unknown): unknown {
  if (!(err instanceof APIError)) return err;
  const callers = err.answered && (err.status === 400 || err.status === 413 || err.status === 429);
  const status = callers ? err.status : err.status === 408 || err.code === 'timeout' ? 504 : 502;
  return new GatewayError(status, `model server: ${err.message}`, err.code, null, { cause: err, retryAfterSeconds: err.retryAfterSeconds });
}
