// Typed errors (F-109) and helpers that turn failures into OpenAI's error shape for HTTP edges.
import type { z } from 'zod';
import type { OpenAIErrorBody } from './openai';

/** Base class of every error @sage/common raises on purpose. */
export class LLMError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class ModelNotFoundError extends LLMError {
  constructor(
    readonly model: string,
    readonly available: readonly string[] = [],
  ) {
    super(`model "${model}" not found${available.length ? ` (available: ${available.join(', ')})` : ''}`);
  }
}

export class ProviderNotFoundError extends LLMError {
  constructor(
    readonly provider: string,
    readonly available: readonly string[] = [],
  ) {
    super(`provider "${provider}" not found${available.length ? ` (registered: ${available.join(', ')})` : ''}`);
  }
}

/** A failed call to a model API. `status` is undefined for connection failures and timeouts. */
export class APIError extends LLMError {
  readonly status: number | undefined;
  readonly code: string | null;
  readonly retryable: boolean;
  /** Seconds the server asked us to wait (Retry-After), when it did. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    message: string,
    init: { status?: number; code?: string | null; retryable: boolean; retryAfterSeconds?: number; cause?: unknown },
  ) {
    super(message, { cause: init.cause });
    this.status = init.status;
    this.code = init.code ?? null;
    this.retryable = init.retryable;
    this.retryAfterSeconds = init.retryAfterSeconds;
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
    );
  }
}

// ---------------------------------------------------------------- OpenAI error shape

export interface OpenAIErrorResult {
  status: number;
  body: OpenAIErrorBody;
}

function defaultErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
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

function describe(issue: Issue, param: string): string {
  const where = param ? `'${param}'` : 'the request body';
  if (issue.code === 'invalid_type' && (issue as { input?: unknown }).input === undefined) {
    return `${where} is required (expected ${issue.expected})`;
  }
  if (issue.code === 'invalid_union') {
    const kinds = unionExpected(issue);
    return `invalid value for ${where}: ${kinds ? `expected ${kinds}` : 'it does not match any accepted form'}`;
  }
  return `invalid value for ${where}: ${issue.message}`;
}

/** The first issue of a zod error as a 400 in OpenAI's shape, naming the field (dotted path) in `param`. */
export function zodIssueToOpenAIError(error: z.ZodError): OpenAIErrorResult {
  const first = error.issues[0];
  if (!first) return openAIError(400, 'invalid request body', { code: 'invalid_request' });
  const issue = mostSpecific(first);
  const param = issue.path.map(String).join('.');
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem${error.issues.length > 2 ? 's' : ''})` : '';
  return openAIError(400, describe(issue, param) + more, { param: param || null, code: 'invalid_value' });
}
