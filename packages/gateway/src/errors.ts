// Errors the gateway raises on purpose carry their HTTP status and OpenAI error code, so every edge
// (HTTP routes, the bin) reports them the same way.
import { APIError, LLMError, NoEndpointError, openAIError, type OpenAIErrorResult } from '@sage/common';

export class GatewayError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}

/** Any failure as an HTTP status and an OpenAI-shaped body. Unknown errors are 500s with their message. */
export function toOpenAIError(err: unknown): OpenAIErrorResult {
  if (err instanceof GatewayError) return openAIError(err.status, err.message, { code: err.code, param: err.param });
  if (err instanceof NoEndpointError) return openAIError(503, err.message, { code: 'no_model_endpoint' });
  if (err instanceof APIError) {
    // A 400/413 from the model server concerns what the caller sent (e.g. a conversation longer than the
    // model's context) and stays theirs; anything else upstream (auth, unknown model, 5xx) is the gateway's
    // configuration or the server's failure: a bad gateway, with the reason.
    const status =
      err.status === 400 || err.status === 413 || err.status === 429 ? err.status : err.status === 408 || err.code === 'timeout' ? 504 : 502;
    return openAIError(status, `model server: ${err.message}`, { code: err.code ?? 'upstream_error' });
  }
  if (err instanceof LLMError) return openAIError(502, err.message, { code: 'upstream_error' });
  const message = err instanceof Error ? err.message : String(err);
  return openAIError(500, message, { code: 'internal_error' });
}
