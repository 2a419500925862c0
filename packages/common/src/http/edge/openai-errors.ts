// One mapping from any failure to OpenAI's error shape, for every sage server. Errors raised on purpose are
// SageErrors and say their own status and code; fastify's request errors (bad JSON, wrong content type, body too
// large) are known by their documented codes; zod errors become a 400 naming the field; anything else is a 500
// whose details go to the log, never to the client.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { SageError, openAIError, zodIssueToOpenAIError, type OpenAIErrorResult } from '../../types/errors';

export interface OpenAIErrorReply extends OpenAIErrorResult {
  /** Seconds for a Retry-After header, when the error asks the caller to come back. */
  retryAfterSeconds?: number;
  /** True for a failure nobody raised on purpose: a bug to log with its stack. */
  internal: boolean;
}

/** fastify's own request errors, by their documented codes, with the status and code every sage server answers. */
const FASTIFY_REQUEST_ERRORS: Readonly<Record<string, { status: number; code: string; message: string }>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json', message: 'the request body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'invalid_json', message: 'the request body is empty: expected a JSON object' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type', message: 'unsupported content type: send the body as JSON with "Content-Type: application/json"' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'invalid_request', message: 'the request body does not match its Content-Length' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'request_too_large', message: 'the request body is larger than this server accepts' },
};

const internalError = (): OpenAIErrorReply => ({ ...openAIError(500, 'internal server error', { code: 'internal_error' }), internal: true });

/** Any thrown value as an HTTP status and an OpenAI error body. */
export function toOpenAIError(err: unknown): OpenAIErrorReply {
  if (err instanceof SageError) {
    const result = openAIError(err.status, err.message, { type: err.type, param: err.param, code: err.code });
    return { ...result, retryAfterSeconds: err.retryAfterSeconds, internal: false };
  }
  if (err instanceof z.core.$ZodError) return { ...zodIssueToOpenAIError(err as z.ZodError), internal: false };
  const fe = err as Partial<FastifyError> | null;
  const known = typeof fe?.code === 'string' ? FASTIFY_REQUEST_ERRORS[fe.code] : undefined;
  if (known) return { ...openAIError(known.status, known.message, { code: known.code }), internal: false };
  // Other errors of fastify's request handling (a malformed URL, a request stream that failed) carry a 4xx statusCode.
  const status = fe?.statusCode;
  if (err instanceof Error && typeof status === 'number' && status >= 400 && status < 500) {
    return { ...openAIError(status, err.message, { code: 'invalid_request' }), internal: false };
  }
  return internalError();
}

/** Sends `err` in OpenAI's shape (with Retry-After when it asks for one). */
export function sendOpenAIError(reply: FastifyReply, err: unknown): FastifyReply {
  return sendMapped(reply, toOpenAIError(err));
}

function sendMapped(reply: FastifyReply, e: OpenAIErrorReply): FastifyReply {
  if (e.retryAfterSeconds !== undefined) void reply.header('retry-after', String(Math.max(1, Math.ceil(e.retryAfterSeconds))));
  return reply.code(e.status).type('application/json').send(e.body);
}

function logFailure(request: FastifyRequest, err: unknown, e: OpenAIErrorReply): void {
  if (e.internal) request.log.error({ err }, 'request failed');
  else if (e.status >= 500) request.log.warn({ status: e.status, code: e.body.error.code }, e.body.error.message);
  else request.log.debug({ status: e.status, code: e.body.error.code }, e.body.error.message);
}

/** The error handler every sage server installs: map, log, send. */
export function openAIErrorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const e = toOpenAIError(err);
  logFailure(request, err, e);
  return sendMapped(reply, e);
}

/** A 404 for a URL no route serves, in OpenAI's shape. */
export function routeNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = request.url.split('?', 1)[0];
  return sendMapped(reply, { ...openAIError(404, `no route for ${request.method} ${path}`, { code: 'route_not_found' }), internal: false });
}
