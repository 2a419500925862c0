// A request's logger (`request.log`, `reply.log`), made only when a line is written through it. fastify gives every
// request a child of the server's logger bound to its id (`reqId`), and pino builds each child eagerly: its bindings
// serialized, a method per level set on a fresh object (~1 µs and a dictionary-mode object per request). Nearly
// every request writes nothing through it — its access line comes from the server's logger with the id among its
// fields (access-log.ts) — so the child is built on the first line written at an enabled level: error lines (the
// error handler's, fastify's own, a stream's) carry `reqId` exactly as before.
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level, Logger } from 'pino';

type LogArgs = [obj: unknown, msg?: string, ...args: unknown[]];

class RequestLogger {
  private made: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  /** The child fastify would have made, made now. */
  private get real(): Logger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }

  get level(): string {
    return (this.made ?? this.parent).level;
  }

  set level(level: string) {
    this.real.level = level;
  }

  isLevelEnabled(level: string): boolean {
    return (this.made ?? this.parent).isLevelEnabled(level);
  }

  fatal(...args: LogArgs): void {
    this.write('fatal', args);
  }

  error(...args: LogArgs): void {
    this.write('error', args);
  }

  warn(...args: LogArgs): void {
    this.write('warn', args);
  }

  info(...args: LogArgs): void {
    this.write('info', args);
  }

  debug(...args: LogArgs): void {
    this.write('debug', args);
  }

  trace(...args: LogArgs): void {
    this.write('trace', args);
  }

  silent(): void {
    // pino's silent level writes nothing.
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real.child(bindings, options);
  }

  private write(level: Level, args: LogArgs): void {
    // A line below the level costs no child (the error handler's debug line for every 4xx, at info).
    if (this.made === undefined && !this.parent.isLevelEnabled(level)) return;
    this.real[level](...(args as [unknown, string?, ...unknown[]]));
  }
}

/**
 * fastify's `childLoggerFactory` for a pino server logger: each request gets a RequestLogger, which makes fastify's
 * child on first use. A route with its own log level or serializers gets its child at once, as before.
 */
export const requestLoggerFactory: NonNullable<FastifyServerOptions['childLoggerFactory']> = function (logger, bindings, options) {
  if (options.level !== undefined || options.serializers !== undefined) return logger.child(bindings, options);
  return new RequestLogger(logger as unknown as Logger, bindings, options) as unknown as FastifyBaseLogger;
};
