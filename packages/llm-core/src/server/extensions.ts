// Reads sage's request extensions (F-301): priority and SLO deadline from `x-sage-priority` / `x-sage-slo-ms`
// headers or a `sage: { priority, slo_deadline_ms }` body field. Headers win over the body, as a proxy
// in front of an unmodified client can only set headers.
import { z } from 'zod';
import { InvalidRequestError } from '../control-plane/manager';
import { PRIORITY_NAMES, type PriorityName } from '../control-plane/types';

export interface SageExtensions {
  priority?: PriorityName;
  sloDeadlineMs?: number;
  ttftDeadlineMs?: number;
  sessionId?: string;
}

const PriorityValue = z
  .union([z.string(), z.number().int().min(0).max(4)])
  .transform((v, ctx) => {
    if (typeof v === 'number') return PRIORITY_NAMES[v]!;
    const name = v.trim().toUpperCase() as PriorityName;
    if (!PRIORITY_NAMES.includes(name)) {
      ctx.addIssue({ code: 'custom', message: `expected one of ${PRIORITY_NAMES.map((p) => p.toLowerCase()).join(', ')}` });
      return z.NEVER;
    }
    return name;
  });
const Deadline = z.coerce.number().positive().max(3_600_000);

const BodyExtension = z.looseObject({
  priority: PriorityValue.optional(),
  slo_deadline_ms: Deadline.optional(),
  ttft_deadline_ms: Deadline.optional(),
  session_id: z.string().min(1).max(256).optional(),
});

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return (Array.isArray(v) ? v[0] : v)?.trim() || undefined;
}

function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, param: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new InvalidRequestError('invalid_value', `invalid value for '${param}': ${r.error.issues[0]?.message ?? 'invalid'}`, param);
  return r.data;
}

/** What a request without sage's body field reads from it: one shared object. */
const NO_BODY_EXTENSION: z.output<typeof BodyExtension> = Object.freeze({});
/** The extensions of a request that uses none (most): one shared, frozen object. */
const NONE: SageExtensions = Object.freeze({ priority: undefined, sloDeadlineMs: undefined, ttftDeadlineMs: undefined, sessionId: undefined });

export function readExtensions(headers: Record<string, string | string[] | undefined>, body: { sage?: unknown; session_id?: unknown }): SageExtensions {
  const ext = body.sage === undefined ? NO_BODY_EXTENSION : parseOrThrow(BodyExtension, body.sage, 'sage');
  const hp = header(headers, 'x-sage-priority');
  const hs = header(headers, 'x-sage-slo-ms');
  const ht = header(headers, 'x-sage-ttft-ms');
  const session = header(headers, 'x-session-id') ?? ext.session_id ?? (typeof body.session_id === 'string' ? body.session_id : undefined);
  const priority = hp !== undefined ? parseOrThrow(PriorityValue, hp, 'x-sage-priority') : ext.priority;
  const sloDeadlineMs = hs !== undefined ? parseOrThrow(Deadline, hs, 'x-sage-slo-ms') : ext.slo_deadline_ms;
  const ttftDeadlineMs = ht !== undefined ? parseOrThrow(Deadline, ht, 'x-sage-ttft-ms') : ext.ttft_deadline_ms;
  if (priority === undefined && sloDeadlineMs === undefined && ttftDeadlineMs === undefined && session === undefined) return NONE;
  return { priority, sloDeadlineMs, ttftDeadlineMs, sessionId: session };
}
