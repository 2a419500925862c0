// Typed errors (F-109), rooted in SageError, and helpers that turn failures into OpenAI's error shape for HTTP edges.
import type { z } from 'zod';
import type { OpenAIErrorBody } from './openai';

/** OpenAI's error `type` for an HTTP status, when an error names none. */
function defaultErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** What a {@link SageError} says about itself besides its message. */
export interface SageErrorInit {
  /** The HTTP status a server answers with when this error reaches its edge. */
  status: number;
  /** A stable, machine-readable code (OpenAI's where it has one: `model_not_found`, `invalid_api_key`, ...). */
  code: string;
  /** OpenAI's error `type`; by default the one that goes with `status`. */
  type?: string;
  /** The request field at fault, as a dotted path. */
  param?: string | null;
  /** How long the caller should wait before trying again (a Retry-After header on HTTP). */
  retryAfterSeconds?: number;
  cause?: unknown;
}

/**
 * The root of every error a sage package raises on purpose. It carries what an HTTP edge needs to answer in
 * OpenAI's shape (`status`, `code`, `type`, `param`), so servers map errors by these fields, never by class.
 */
export class SageError extends Error {
  readonly status: number;
  readonly code: string;
  readonly type: string;
  readonly param: string | null;
  readonly retryAfterSeconds: number | undefined;

  constructor(message: string, init: SageErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.status = init.status;
    this.code = init.code;
    this.type = init.type ?? defaultErrorType(init.status);
    this.param = init.param ?? null;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

/**
 * Base class of the clients' errors. Seen from a server that calls a model for its caller, a client failure is
 * the model side's: a 502 unless a subclass says otherwise.
 */
export class LLMError extends SageError {
  constructor(message: string, options: { cause?: unknown } & Partial<SageErrorInit> = {}) {
    super(message, { ...options, status: options.status ?? 502, code: options.code ?? 'upstream_error' });
  }
}

export class ModelNotFoundError extends LLMError {
  constructor(
    readonly model: string,
    readonly available: readonly string[] = [],
  ) {
    super(`model "${model}" not found${available.length ? ` (available: ${available.join(', ')})` : ''}`, { status: 404, code: 'model_not_found', param: 'model' });
  }
}

export class ProviderNotFoundError extends LLMError {
  constructor(
    readonly provider: string,
    readonly available: readonly string[] = [],
  ) {
    super(`provider "${provider}" not found${available.length ? ` (registered: ${available.join(', ')})` : ''}`, { status: 404, code: 'provider_not_found' });
  }
}

/**
 * A failed call to a model API. `status` is the server's HTTP status when it answered; when it did not (a
 * connection failure, a malformed reply) it is 502, and 504 for a timeout, as a proxy would put it.
 */
export class APIError extends LLMError {
  readonly retryable: boolean;
  /** Whether the server answered with an HTTP error (false: no usable answer came). */
  readonly answered: boolean;

  constructor(
    message: string,
    init: { status?: number; code?: string | null; retryable: boolean; retryAfterSeconds?: number; cause?: unknown },
  ) {
    const code = init.code ?? 'upstream_error';
    super(message, { status: init.status ?? (code === 'timeout' ? 504 : 502), code, retryAfterSeconds: init.retryAfterSeconds, cause: init.cause });
    this.retryable = init.retryable;
    this.answered = init.status !== undefined;
  }
}

/** One endpoint detection looked at, and why it was not taken. */
export interface DetectionCandidate {
  url: string;
  purpose: 'llm' | 'embedding';
  outcome: string;
}

/** Detection found nothing usable; the message lists every candidate tried. */
export class NoEndpointError extends LLMError {
  constructor(
    readonly purpose: 'llm' | 'embedding',
    readonly candidates: readonly DetectionCandidate[],
  ) {
    const tried = candidates.map((c) => `  - ${c.url}: ${c.outcome}`).join('\n');
    super(
      `no ${purpose === 'llm' ? 'LLM' : 'embedding'} endpoint found. Tried:\n${tried || '  (nothing)'}\n` +
        `Set ${purpose === 'llm' ? 'SAGE_CHAT_BASE_URL' : 'SAGE_EMBEDDING_BASE_URL'} (or SAGE_UNIFIED_BASE_URL), ` +
        'start a local engine or control plane, or set SAGE_CHAT_API_KEY for the DashScope fallback.',
      { status: 503, code: 'no_model_endpoint' },
    );
  }
}

// ---------------------------------------------------------------- OpenAI error shape

export interface OpenAIErrorResult {
  status: number;
  body: OpenAIErrorBody;
}

/** An HTTP status with a body in OpenAI's error shape: `{ error: { message, type, param, code } }`. */
export function openAIError(
  status: number,
  message: string,
  opts: { type?: string; param?: string | null; code?: string | null } = {},
): OpenAIErrorResult {
  return {
    status,
    body: { error: { message, type: opts.type ?? defaultErrorType(status), param: opts.param ?? null, code: opts.code ?? null } },
  };
}

type Issue = z.core.$ZodIssue;

/**
 * A union failure reports every branch. The branch that got furthest into the value, or whose type matched
 * but a constraint failed (e.g. an empty array), explains the problem best.
 */
function mostSpecific(issue: Issue): Issue {
  if (issue.code !== 'invalid_union' || !issue.errors?.length) return issue;
  const score = (i: Issue) => i.path.length * 2 + (i.code === 'invalid_type' || i.code === 'invalid_union' ? 0 : 1);
  let best: Issue | undefined;
  for (const branch of issue.errors) {
    for (const sub of branch) {
      const candidate = mostSpecific({ ...sub, path: [...issue.path, ...sub.path] } as Issue);
      if (!best || score(candidate) > score(best)) best = candidate;
    }
  }
  return best && score(best) > issue.path.length * 2 ? best : issue;
}

/** The kinds a union accepts, from its branches' type errors ("string or array"). */
function unionExpected(issue: Issue): string {
  if (issue.code !== 'invalid_union') return '';
  const kinds = new Set<string>();
  for (const branch of issue.errors ?? []) for (const sub of branch) if (sub.code === 'invalid_type' && sub.path.length === 0) kinds.add(String(sub.expected));
  return [...kinds].join(' or ');
}

/** Whether the field an issue points at is absent from the input (zod issues do not carry the input value). */
function isMissing(issue: Issue, validated: { value: unknown } | undefined): boolean {
  if (issue.code !== 'invalid_type') return false;
  if (!validated) return / received undefined$/.test(issue.message);
  let v = validated.value;
  for (const key of issue.path) {
    if (v === null || typeof v !== 'object') return true;
    v = (v as Record<PropertyKey, unknown>)[key as PropertyKey];
  }
  return v === undefined;
}

/** The message, `param` and OpenAI code of one issue (OpenAI's codes: missing_required_parameter, invalid_type, unknown_parameter, invalid_value). */
function describe(issue: Issue, param: string, missing: boolean): { message: string; param: string; code: string } {
  const where = param ? `'${param}'` : 'the request body';
  const detail = issue.message.replace(/^Invalid input: /, '');
  if (issue.code === 'invalid_type') {
    if (!param && issue.expected === 'object') return { message: 'the request body must be a JSON object', param, code: 'invalid_type' };
    if (missing) return { message: `${where} is required (expected ${issue.expected})`, param, code: 'missing_required_parameter' };
    return { message: `invalid type for ${where}: ${detail}`, param, code: 'invalid_type' };
  }
  if (issue.code === 'unrecognized_keys') {
    const key = [param, String(issue.keys[0])].filter(Boolean).join('.');
    const others = issue.keys.length > 1 ? ` (and ${issue.keys.slice(1).map((k) => `'${k}'`).join(', ')})` : '';
    return { message: `unknown parameter: '${key}'${others}`, param: key, code: 'unknown_parameter' };
  }
  if (issue.code === 'invalid_union') {
    const kinds = unionExpected(issue);
    return { message: `invalid value for ${where}: ${kinds ? `expected ${kinds}` : 'it does not match any accepted form'}`, param, code: 'invalid_value' };
  }
  return { message: `invalid value for ${where}: ${detail}`, param, code: 'invalid_value' };
}

/**
 * The first issue of a zod error as a 400 in OpenAI's shape, naming the field (dotted path) in `param`. Given the
 * value that was validated, a missing field is told from one of the wrong type exactly.
 */
export function zodIssueToOpenAIError(error: z.ZodError, validated?: { value: unknown }): OpenAIErrorResult {
  const first = error.issues[0];
  if (!first) return openAIError(400, 'invalid request body', { code: 'invalid_value' });
  const issue = mostSpecific(first);
  const d = describe(issue, issue.path.map(String).join('.'), isMissing(issue, validated));
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem${error.issues.length > 2 ? 's' : ''})` : '';
  return openAIError(400, d.message + more, { param: d.param || null, code: d.code });
}
