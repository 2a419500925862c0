// Request ids across client, control plane and engine. The control plane names every request itself (fastify's
// request id, used in its logs and in `x-sage-request-id`); a caller's own `x-request-id` is echoed back and is
// what the engine receives, so one id joins the caller's, the control plane's and the engine's logs. Without one,
// the control plane's id serves for both.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SageError } from '@sage/common';
import { z } from 'zod';

export const CLIENT_REQUEST_ID_HEADER = 'x-request-id';
export const SAGE_REQUEST_ID_HEADER = 'x-sage-request-id';

/** Longer ids than this are refused: they would be copied into every log line and engine request. */
export const MAX_CLIENT_REQUEST_ID_LENGTH = 256;
const ClientRequestId = z.string().max(MAX_CLIENT_REQUEST_ID_LENGTH).regex(/^[\x20-\x7e]+$/);

/** The caller's x-request-id, when it sent one (a repeated header: the first). */
export function clientRequestId(request: FastifyRequest): string | undefined {
  const v = request.headers[CLIENT_REQUEST_ID_HEADER];
  const id = (Array.isArray(v) ? v[0] : v)?.trim();
  return id ? id : undefined;
}

/**
 * onRequest: refuses an unusable x-request-id, else puts both ids on the response (errors included). A callback
 * hook, not an async one: no promise and no extra microtask turn per request.
 */
export function requestIdHook(request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void {
  const id = clientRequestId(request);
  if (id !== undefined && !ClientRequestId.safeParse(id).success) {
    reply.header(SAGE_REQUEST_ID_HEADER, request.id);
    done(new SageError(`x-request-id must be 1 to ${MAX_CLIENT_REQUEST_ID_LENGTH} printable ASCII characters`, { status: 400, param: CLIENT_REQUEST_ID_HEADER, code: 'invalid_request_id' }));
    return;
  }
  reply.header(CLIENT_REQUEST_ID_HEADER, id ?? request.id);
  reply.header(SAGE_REQUEST_ID_HEADER, request.id);
  done();
}
