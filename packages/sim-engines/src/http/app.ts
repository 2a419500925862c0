// The fastify app both simulators start from: JSON bodies only, OpenAI-shaped errors, a body limit.
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { installOpenAIErrorHandling } from './errors';

export interface BaseAppOptions {
  logger?: Logger;
  bodyLimitBytes?: number;
}

export function createBaseApp(opts: BaseAppOptions = {}): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.logger,
    // Per-request lines would drown the engine's own log; metrics carry the numbers.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimitBytes ?? 32 * 1024 * 1024,
    forceCloseConnections: 'idle',
  }) as unknown as FastifyInstance;
  // Only JSON is an accepted body; text/plain would otherwise parse into a string and fail later, less clearly.
  app.removeContentTypeParser('text/plain');
  installOpenAIErrorHandling(app);
  return app;
}

/** The address a listening app is bound to. */
export function boundPort(app: FastifyInstance): number {
  const addr = app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('server is not listening on a TCP port');
  return addr.port;
}
