// One place that turns any failure into OpenAI's error shape (F-304). Fastify's own errors (bad JSON,
// oversized body, wrong content type) and the control plane's typed errors map to precise statuses;
// anything unexpected is a 500 whose details go to the log, not to the client.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { openAIError, zodIssueToOpenAIError, type OpenAIErrorResult } from '@sage/common';
import { ZodError } from 'zod';
import { ControlPlaneError, InvalidRequestError, UpstreamError } from '../control-plane/manager';

export function toOpenAIError(err: unknown): OpenAIErrorResult & { retryAfterSec?: number; internal?: boolean } {
  if (err instanceof ZodError) return zodIssueToOpenAIError(err);
  if (err instanceof InvalidRequestError) return openAIError(err.status, err.message, { type: err.type, param: err.param ?? null, code: err.code });
  if (err instanceof UpstreamError) {
    // Name the engine, never its address or key.
    const message = err.message.includes(err.instanceId) ? err.message : `engine ${err.instanceId}: ${err.message}`;
    return openAIError(err.status, message, { type: err.type, code: err.code });
  }
  if (err instanceof ControlPlaneError) {
    return { ...openAIError(err.status, err.message, { type: err.type, code: err.code }), retryAfterSec: err.retryAfterSec };
  }
  const fe = err as Partial<FastifyError> & { status?: number };
  const status = fe.statusCode ?? fe.status;
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return openAIError(413, 'request body is too large', { code: 'body_too_large' });
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return openAIError(415, 'unsupported content type: send application/json', { code: 'unsupported_media_type' });
  if (fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return openAIError(400, 'request body is empty: expected a JSON object', { code: 'invalid_json' });
  if (fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (err instanceof SyntaxError && status === 400)) {
    return openAIError(400, `request body is not valid JSON: ${fe.message ?? ''}`.trim(), { code: 'invalid_json' });
  }
  if (typeof status === 'number' && status >= 400 && status < 600 && err instanceof Error) {
    // Domain errors of the engine layer carry their status (PortConflictError 409, EngineNotFoundError 404, …).
    const reason = (err as { reason?: unknown }).reason;
    const code = typeof reason === 'string' ? reason : (fe.code ?? snake(err.name));
    return openAIError(status, err.message, { code, type: status >= 500 ? 'server_error' : undefined });
  }
  return { ...openAIError(500, 'internal server error', { type: 'server_error', code: 'internal_error' }), internal: true };
}

function snake(name: string): string {
  return name.replace(/Error$/, '').replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase() || 'error';
}

export function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  const e = toOpenAIError(err);
  if (e.retryAfterSec !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(e.retryAfterSec))));
  return reply.code(e.status).type('application/json').send(e.body);
}

export function errorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const e = toOpenAIError(err);
  if (e.internal) request.log.error({ err }, 'unhandled error');
  else request.log.info({ status: e.status, code: e.body.error.code }, e.body.error.message);
  void sendError(reply, err);
}
