// OpenAI-shaped errors for the simulator servers: every failure, including the ones fastify raises
// before a handler runs (bad JSON, wrong content type, body too large), becomes {"error": {...}}.
import type { FastifyError, FastifyInstance } from 'fastify';
import { ZodError } from 'zod';
import { openAIError, zodIssueToOpenAIError, type OpenAIErrorResult } from '@sage/common';

/** An error a handler throws on purpose, answered with its status in OpenAI's shape. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly opts: { type?: string; param?: string | null; code?: string | null; retryAfterSeconds?: number } = {},
  ) {
    super(message);
  }

  toResult(): OpenAIErrorResult {
    return openAIError(this.status, this.message, this.opts);
  }
}

/** fastify's own request errors, by code, as OpenAI error codes (wrong content type is a 400 like any bad input). */
const FASTIFY_CODES: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'invalid_json' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 400, code: 'invalid_content_type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'invalid_request' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'request_too_large' },
};

export function toOpenAIError(err: unknown): OpenAIErrorResult {
  if (err instanceof HttpError) return err.toResult();
  if (err instanceof ZodError) return zodIssueToOpenAIError(err);
  const fe = err as Partial<FastifyError>;
  if (fe && typeof fe.code === 'string' && FASTIFY_CODES[fe.code]) {
    const m = FASTIFY_CODES[fe.code] as { status: number; code: string };
    const message =
      fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? `unsupported content type: send the body as JSON with "Content-Type: application/json"`
        : fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
          ? `the request body is not valid JSON: ${fe.message ?? ''}`
          : (fe.message ?? 'bad request');
    return openAIError(m.status, message, { code: m.code });
  }
  if (fe && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return openAIError(fe.statusCode, fe.message ?? 'bad request');
  }
  return openAIError(500, 'internal error in the simulator', { code: 'internal_error' });
}

/** Install the error and not-found handlers on an app. */
export function installOpenAIErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const { status, body } = toOpenAIError(err);
    if (status >= 500) request.log.error({ err }, 'request failed');
    if (err instanceof HttpError && err.opts.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.opts.retryAfterSeconds));
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const { status, body } = openAIError(404, `no route for ${request.method} ${request.url}`, { code: 'not_found' });
    return reply.status(status).send(body);
  });
}
