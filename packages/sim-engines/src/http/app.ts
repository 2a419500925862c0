// The fastify app both simulators start from: sage's HTTP edge (JSON bodies only, zod schemas at the route,
// OpenAI-shaped errors) and a body limit.
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { installHttpEdge, type ZodFastifyInstance } from '@sage/common/http';

export interface BaseAppOptions {
  logger?: Logger;
  bodyLimitBytes?: number;
}

export function createBaseApp(opts: BaseAppOptions = {}): ZodFastifyInstance {
  const app = Fastify({
    loggerInstance: opts.logger,
    // Per-request lines would drown the engine's own log; metrics carry the numbers.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimitBytes ?? 32 * 1024 * 1024,
    forceCloseConnections: 'idle',
  }) as unknown as FastifyInstance;
  return installHttpEdge(app);
}

/** The address a listening app is bound to. */
export function boundPort(app: FastifyInstance): number {
  const addr = app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('server is not listening on a TCP port');
  return addr.port;
}
