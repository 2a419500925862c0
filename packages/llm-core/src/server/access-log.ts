// One access-log line per request, when it ends, at a level the operator picks (info by default): with the logger
// at warn there are none, and they cost nothing. Replaces fastify's two lines (incoming, completed) through its
// LogController, which also sees streamed (hijacked) responses end.
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Level, Logger } from 'pino';
import { clientRequestId } from './request-id';

export type AccessLogLevel = Exclude<Level, 'fatal'> | 'silent';

export class AccessLog extends LogController {
  constructor(private readonly level: AccessLogLevel = 'info') {
    super();
  }

  override incomingRequest(): void {
    // One line per request, written when it ends.
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    // The server's logger is pino (buildServer takes a pino Logger): its children have isLevelEnabled.
    const log = reply.log as unknown as Logger;
    const level = error ? 'error' : this.level;
    if (level === 'silent' || !log.isLevelEnabled(level)) return;
    const instance = reply.getHeader('x-sage-instance');
    log[level](
      {
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        clientRequestId: clientRequestId(request),
        instance: typeof instance === 'string' ? instance : undefined,
        err: error ?? undefined,
      },
      error ? 'request errored' : 'request completed',
    );
  }
}
