// One access-log line per request, when it ends, at a level the operator picks (info by default): with the logger
// at warn there are none, and they cost nothing. Replaces fastify's two lines (incoming, completed) through its
// LogController, which also sees streamed (hijacked) responses end. It is also where whatever else watches every
// request's end runs (the HTTP metrics): fastify calls it for every response, so no onResponse hook (and no hook
// runner per request) is needed for them.
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Level, Logger } from 'pino';
import { clientRequestId } from './request-id';

export type AccessLogLevel = Exclude<Level, 'fatal'> | 'silent';

export interface AccessLogOptions {
  /** The server's logger (the one given to fastify). */
  logger: Logger;
  /** Level of the access line (default info; 'silent' for none). Errored requests log at error. */
  level?: AccessLogLevel;
  /** Called for every request that ends, before its line (whatever the level). */
  onEnd?: (request: FastifyRequest, reply: FastifyReply) => void;
}

export class AccessLog extends LogController {
  private readonly log: Logger;
  private readonly level: AccessLogLevel;
  private readonly onEnd: ((request: FastifyRequest, reply: FastifyReply) => void) | undefined;

  constructor(options: AccessLogOptions) {
    super();
    this.log = options.logger;
    this.level = options.level ?? 'info';
    this.onEnd = options.onEnd;
  }

  override incomingRequest(): void {
    // One line per request, written when it ends.
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.onEnd !== undefined) {
      try {
        this.onEnd(request, reply);
      } catch (err) {
        // As a failing onResponse hook would: the request's line says it errored.
        error ??= err as Error;
      }
    }
    const level = error ? 'error' : this.level;
    if (level === 'silent' || !this.log.isLevelEnabled(level)) return;
    const instance = reply.getHeader('x-sage-instance');
    // Written through the server's logger with the request id as the first field: the same line a child bound to
    // the id would write (request-logger.ts), without making that child.
    this.log[level](
      {
        reqId: request.id,
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
