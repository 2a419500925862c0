// @sage/common/http: the HTTP edge every sage server shares — zod schemas declared at the route, one mapping of
// errors to OpenAI's shape, and one SSE writer with back-pressure. fastify is an optional peer dependency: only a
// server imports this entry, so users of the clients never install it.
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import { installOpenAIErrors } from './openai-errors';
import { zodValidatorCompiler, type ZodTypeProvider } from './zod-schemas';

export { toOpenAIError, sendOpenAIError, type OpenAIErrorReply } from './openai-errors';
export type { ZodTypeProvider } from './zod-schemas';
export { SseStream } from './sse';

/** An app whose routes take zod schemas and whose `request.body` is typed by them. */
export type ZodFastifyInstance = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

/**
 * Makes `app` a sage HTTP edge: JSON bodies only (text/plain would otherwise reach a route as a string and fail
 * later, less clearly), zod schemas at the route, OpenAI-shaped errors and 404s. Returns the app typed for zod.
 */
export function installHttpEdge(app: FastifyInstance): ZodFastifyInstance {
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(zodValidatorCompiler);
  installOpenAIErrors(app);
  return app.withTypeProvider<ZodTypeProvider>();
}
