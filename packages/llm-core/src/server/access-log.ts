// One access-log line per request, when it ends, at a level the operator picks (info by default): with the logger
// at warn there are none, and they cost nothing. Replaces fastify's two lines (incoming, completed) through its
// LogController, which also sees streamed (hijacked) responses end. It is also where whatever else watches every
// request's end runs (the HTTP metrics): fastify calls it for every response, so no onResponse hook (and no hook
// runner per request) is needed for them.
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Level, Logger } from 'pino';
import { ACCESS_MESSAGE, AccessLineWriter } from './access-line';
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
  /** Writes the line of a request that ended well as pino would, for less (access-line.ts); undefined: pino writes it. */
  private readonly lines: AccessLineWriter | undefined;
  private readonly levelValue: number;

  constructor(options: AccessLogOptions) {
    super();
    this.log = options.logger;
    this.level = options.level ?? 'info';
    this.onEnd = options.onEnd;
    this.lines = AccessLineWriter.for(this.log);
    this.levelValue = this.level === 'silent' ? Infinity : (this.log.levels.values[this.level] ?? Infinity);
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
    const header = reply.getHeader('x-sage-instance');
    const instance = typeof header === 'string' ? header : undefined;
    const ms = Math.round(reply.elapsedTime * 10) / 10;
    if (!error && this.lines?.write(this.levelValue, { reqId: request.id, method: request.method, url: request.url, status: reply.statusCode, ms, clientRequestId: clientRequestId(request), instance })) return;
    // Written through the server's logger with the request id as the first field: the same line a child bound to
    // the id would write (request-logger.ts), without making that child.
    this.log[level](
      {
        reqId: request.id,
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        ms,
        clientRequestId: clientRequestId(request),
        instance,
        err: error ?? undefined,
      },
      error ? 'request errored' : ACCESS_MESSAGE,
    );
  }
}
