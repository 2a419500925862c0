// The fast path for a well-formed chat body: when every field that ChatCompletionRequestSchema constrains is one of
// the everyday ones checked here and holds, the body is what the schema would return (a loose object, no defaults
// or transforms: the same fields and values), so it is used as parsed without zod building a copy of it. Anything
// else — a field this path does not check, a tool message, content parts, a value out of range — goes through the
// schema, which names what is wrong. The schema's keys are read from the schema itself, so a field added to it
// takes the slow path until it is checked here too.
import { ChatCompletionRequestSchema, type ChatCompletionRequest } from '@sage/common';

type Check = (v: unknown) => boolean;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const number = (v: unknown, min: number, max: number) => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
const int = (v: unknown, min: number) => typeof v === 'number' && Number.isInteger(v) && v >= min;
const orNull = (check: Check): Check => (v) => v === null || check(v);

const CHECKS: Record<string, Check> = {
  model: (v) => typeof v === 'string' && v.length > 0,
  max_tokens: orNull((v) => int(v, 0)),
  max_completion_tokens: orNull((v) => int(v, 0)),
  temperature: orNull((v) => number(v, 0, 2)),
  top_p: orNull((v) => number(v, 0, 1)),
  n: orNull((v) => int(v, 1)),
  stop: orNull((v) => typeof v === 'string' || (Array.isArray(v) && v.length <= 4 && v.every((s) => typeof s === 'string'))),
  seed: orNull((v) => int(v, -Infinity)),
  stream: orNull((v) => typeof v === 'boolean'),
  stream_options: orNull((v) => isObject(v) && (!('include_usage' in v) || typeof v.include_usage === 'boolean')),
  presence_penalty: orNull((v) => number(v, -2, 2)),
  frequency_penalty: orNull((v) => number(v, -2, 2)),
  user: (v) => typeof v === 'string',
  messages: (v) => Array.isArray(v) && v.length > 0 && v.every(plainMessage),
};

const SCHEMA_KEYS = new Set(Object.keys(ChatCompletionRequestSchema.shape));
const ROLES = new Set(['system', 'user', 'assistant', 'developer']);

/** A message with a role other than tool, string content, and nothing else the message schema constrains but a name. */
function plainMessage(m: unknown): boolean {
  if (!isObject(m) || typeof m.role !== 'string' || !ROLES.has(m.role) || typeof m.content !== 'string') return false;
  if ('name' in m && typeof m.name !== 'string') return false;
  return !('tool_calls' in m) && !('tool_call_id' in m);
}

/** The body as the schema would parse it, when it takes the fast path; undefined sends it through the schema. */
export function wellFormedChatBody(body: unknown): ChatCompletionRequest | undefined {
  if (!isObject(body) || !('messages' in body) || !('model' in body)) return undefined;
  for (const key in body) {
    if (!SCHEMA_KEYS.has(key)) continue; // a loose object: fields the schema does not name pass unchecked
    const check = CHECKS[key];
    if (!check || !check(body[key])) return undefined;
  }
  return body as ChatCompletionRequest;
}
