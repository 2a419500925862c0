// @sage/common/http: the HTTP edge every sage server shares — zod schemas declared at the route, one mapping of
// errors to OpenAI's shape, and one SSE writer with back-pressure. fastify is an optional peer dependency: only a
// server imports this entry, so users of the clients never install it.
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import { openAIErrorHandler, routeNotFound } from './openai-errors';
import { zodValidatorCompiler, type ZodTypeProvider } from './zod-schemas';

export { toOpenAIError, sendOpenAIError, type OpenAIErrorReply } from './openai-errors';
export type { ZodTypeProvider } from './zod-schemas';
export { SseStream } from './sse';

/** An app whose routes take zod schemas and whose `request.body` is typed by them. */
export type ZodFastifyInstance = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

export interface HttpEdgeOptions {
  /**
   * How this server sees a failure before it is mapped: a server that relays another service's errors turns them
   * into its own SageErrors here (the gateway answers a model server's 401 with a 502: its configuration is wrong).
   */
  translate?: (err: unknown) => unknown;
}

/**
 * Makes `app` a sage HTTP edge: JSON bodies only (text/plain would otherwise reach a route as a string and fail
 * later, less clearly), zod schemas at the route, OpenAI-shaped errors and 404s. Returns the app typed for zod.
 */
export function installHttpEdge(app: FastifyInstance, opts: HttpEdgeOptions = {}): ZodFastifyInstance {
  const { translate } = opts;
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(zodValidatorCompiler);
  app.setErrorHandler(translate ? (err, request, reply) => openAIErrorHandler(translate(err), request, reply) : openAIErrorHandler);
  app.setNotFoundHandler(routeNotFound);
  return app.withTypeProvider<ZodTypeProvider>();
}
