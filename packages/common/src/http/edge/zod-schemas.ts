// Routes declare their zod schemas at the route (`{ schema: { body: ChatCompletionRequestSchema } }`): fastify
// compiles each schema once when the route is added and validates before the handler runs; the handler gets the
// parsed value, typed by the schema. A failure is a SageError (400, OpenAI's code, `param` naming the field).
import type { FastifySchemaCompiler, FastifyTypeProvider } from 'fastify';
import type { z } from 'zod';
import { SageError, zodIssueToOpenAIError } from '../../types/errors';
import { compileFastCheck } from './zod-fast-check';

/** Types `request.body` (and querystring, params, headers) from the zod schemas a route declares. */
export interface ZodTypeProvider extends FastifyTypeProvider {
  validator: this['schema'] extends z.ZodType ? z.output<this['schema']> : unknown;
  serializer: this['schema'] extends z.ZodType ? z.input<this['schema']> : unknown;
}

/**
 * fastify's validator compiler for zod schemas. A well-formed value passes the schema's compiled check and is handed
 * on as it is (zod-fast-check.ts: no copy); anything else goes through zod, which makes the error.
 */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema }) => {
  const wellFormed = compileFastCheck(schema);
  return (data: unknown) => {
    // true: valid, and fastify keeps the value it has (no result object per request).
    if (wellFormed?.(data)) return true;
    const r = schema.safeParse(data);
    if (r.success) return { value: r.data };
    const e = zodIssueToOpenAIError(r.error, { value: data }).body.error;
    return { error: withoutStack(() => new SageError(e.message, { status: 400, code: e.code ?? 'invalid_value', param: e.param })) };
  };
};

/** A bad request body is the caller's input, not a bug: its error skips the stack trace (the costly part of an Error). */
function withoutStack<T>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}
