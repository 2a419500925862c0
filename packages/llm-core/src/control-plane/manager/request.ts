// What callers hand the manager, and what they get back. The wire (OpenAI JSON) is parsed by the server
// or the client; the manager takes this already-typed form plus extra body fields to pass through.
import { requestClassifier } from '../classifier';
import type { ChatMessageLike, CompletionPrompt, PriorityName, RequestMetadata, SamplingParams, SchedulingDecision } from '../types';
import { RequestPriority, RequestStatus, RequestType } from '../types';
import { InvalidRequestError } from './errors';
import type { StreamFailover } from './stream-failover';

export interface InferenceRequest {
  id?: string;
  type?: RequestType;
  /** Model name; empty or absent means "whatever a compatible instance serves first". */
  model?: string;
  messages?: ChatMessageLike[];
  /** A text, or as OpenAI accepts it (a list of texts, token ids): lists and token ids reach the engine untouched. */
  prompt?: CompletionPrompt;
  /** Embedding input: texts, or token-id arrays (forwarded untouched). */
  input?: string | string[] | number[] | number[][];
  maxTokens?: number;
  sampling?: SamplingParams;
  priority?: RequestPriority | PriorityName;
  sloDeadlineMs?: number;
  ttftDeadlineMs?: number;
  userId?: string;
  sessionId?: string;
  tags?: Record<string, string>;
  /** The caller's own request id: the engine receives it as x-request-id (default: the control plane's id). */
  clientRequestId?: string;
  /** Extra OpenAI body fields passed to the engine unchanged (logprobs, stream_options, dimensions, encoding_format, …). */
  extraBody?: Record<string, unknown>;
  /** Fires when the caller goes away: the request leaves the queue, or its upstream call is aborted. */
  signal?: AbortSignal;
}

export interface RequestTimings {
  queueMs: number;
  e2eMs: number;
  ttftMs?: number;
}

export interface InferenceResult {
  requestId: string;
  /** Instance that produced the answer (the decode instance under prefill/decode separation). */
  instanceId: string;
  prefillInstanceId?: string;
  decision: SchedulingDecision;
  /** The OpenAI response JSON (chat.completion, text_completion or an embedding list). */
  body: Record<string, unknown>;
  /** `body` exactly as the engine sent it, when `body` is that answer unchanged: a server relays it without serializing. */
  rawBody?: string;
  timings: RequestTimings;
}

/**
 * Where submitTo() hands a request's outcome, instead of a promise: one of the two is called, once. The answer comes
 * as the engine's answer is in hand; a failure a microtask later, as a rejection would reach its handler. What
 * either throws is reported as a throwing promise callback's would be.
 */
export interface ResultSink {
  answered(result: InferenceResult): void;
  failed(err: unknown): void;
}

/**
 * A started stream: the upstream engine has answered and its first chunk is in hand, so errors up to
 * here were thrown by submitStream (and retried elsewhere when safe). Iterating yields OpenAI chunk
 * objects (the parsed `data:` payloads, [DONE] not included); a failure mid-way throws UpstreamError.
 */
export interface InferenceStream extends AsyncIterable<Record<string, unknown>> {
  requestId: string;
  /** The instance that started the stream (see `failovers` for where it went on). */
  instanceId: string;
  /** Moves of the stream to other instances after its engine failed mid-way (stream-failover.ts). */
  failovers?: readonly StreamFailover[];
  prefillInstanceId?: string;
  decision: SchedulingDecision;
}

let seq = 0;
/** 36^6: six base-36 digits of randomness. */
const RANDOM_SPAN = 2_176_782_336;
/** The millisecond of the last id and its base-36 form: requests of one millisecond share it, printed once. */
let idMs = -1;
let idMs36 = '';
export function newRequestId(): string {
  seq = (seq + 1) % Number.MAX_SAFE_INTEGER;
  const now = Date.now();
  if (now !== idMs) {
    idMs = now;
    idMs36 = now.toString(36);
  }
  // An integer in base 36: a fraction's base-36 digits (Math.random().toString(36)) cost far more to print.
  const random = Math.floor(Math.random() * RANDOM_SPAN).toString(36).padStart(6, '0');
  const id = `req-${idMs36}-${seq.toString(36)}-${random}`;
  // The concatenation is a tree of pieces until V8 flattens it; reading a character flattens it in place, once,
  // rather than each time the id is hashed (the id tables), measured (header values) or copied (headers, log line).
  id.charCodeAt(0);
  return id;
}

export function parsePriority(p: InferenceRequest['priority']): RequestPriority {
  if (p === undefined) return RequestPriority.NORMAL;
  if (typeof p === 'number') return p;
  const v = (RequestPriority as Record<string, RequestPriority>)[p.toUpperCase()];
  if (v === undefined) throw new InvalidRequestError('invalid_priority', `unknown priority "${p}"`, 'priority');
  return v;
}

/** The prompt's text for routing (the first text of a list) and its exact form when not one string. */
/** What splitPrompt and splitInput return for an absent field: shared, so a chat request allocates nothing for them. */
const NOTHING: Readonly<{ text?: undefined; input?: undefined; texts?: undefined; tokenIds?: undefined }> = Object.freeze({});

function splitPrompt(prompt: CompletionPrompt | undefined): { readonly text?: string; readonly input?: CompletionPrompt } {
  if (prompt === undefined) return NOTHING;
  if (typeof prompt === 'string') return { text: prompt };
  let text: string | undefined;
  for (const p of prompt as ReadonlyArray<string | number | number[]>) {
    if (typeof p === 'string') {
      text = p;
      break;
    }
  }
  return { text, input: prompt };
}

/** Embedding input as texts or as token-id arrays (a single token array is one input). */
function splitInput(input: InferenceRequest['input']): { readonly texts?: string[]; readonly tokenIds?: number[][] } {
  if (input === undefined) return NOTHING;
  if (typeof input === 'string') return { texts: [input] };
  if (input.length > 0 && typeof input[0] === 'number') return { tokenIds: [input as number[]] };
  if (input.length > 0 && Array.isArray(input[0])) return { tokenIds: input as number[][] };
  return { texts: input as string[] };
}

/**
 * Classifies and validates the request; throws InvalidRequestError with the classifier's code. Its prompt tokens
 * are counted later, and only if a decision needs the exact figure (prompt-tokens.ts).
 */
export function toMetadata(req: InferenceRequest, now: number): RequestMetadata {
  const { texts: embeddingTexts, tokenIds: embeddingTokenIds } = splitInput(req.input);
  const prompt = splitPrompt(req.prompt);
  // One object, classified and validated as it is: its id is given once it is valid, and its model is '*' while it
  // is validated (the model may be left to the manager — the first model of the chosen instance — so it is
  // checked there). The classifier reads only fields it has.
  const meta: RequestMetadata = {
    id: '',
    type: req.type as RequestType,
    model: req.model || '*',
    priority: parsePriority(req.priority),
    sloDeadlineMs: req.sloDeadlineMs,
    ttftDeadlineMs: req.ttftDeadlineMs,
    messages: req.messages,
    prompt: prompt.text,
    promptInput: prompt.input,
    embeddingTexts,
    embeddingTokenIds,
    maxTokens: req.maxTokens,
    sampling: req.sampling,
    userId: req.userId,
    sessionId: req.sessionId,
    clientRequestId: req.clientRequestId,
    status: RequestStatus.PENDING,
    // Every stage's field from the start (unset until reached): added one by one later, each addition grew the
    // object's property store again.
    timestamps: { arrival: now, queued: undefined, scheduled: undefined, started: undefined, firstToken: undefined, finished: undefined },
    tags: req.tags,
  };
  meta.type = requestClassifier.classify(meta);
  const issues = requestClassifier.validate(meta);
  if (issues.length > 0) {
    const first = issues[0];
    throw new InvalidRequestError(first.code, issues.map((i) => i.message).join('; '), first.param, req.id);
  }
  meta.id = req.id ?? newRequestId();
  meta.model = req.model ?? '';
  return meta;
}

/** The OpenAI body sent to an engine for an LLM request. */
export function llmPayload(meta: RequestMetadata, model: string, extra: Record<string, unknown> | undefined, stream: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = extra ? { ...extra, model } : { model };
  if (meta.type === RequestType.LLM_CHAT) body.messages = meta.messages;
  else body.prompt = meta.promptInput ?? meta.prompt;
  if (meta.maxTokens !== undefined) body.max_tokens = meta.maxTokens;
  const s = meta.sampling;
  if (s?.temperature !== undefined) body.temperature = s.temperature;
  if (s?.topP !== undefined) body.top_p = s.topP;
  if (s?.stop !== undefined) body.stop = s.stop;
  if (s?.seed !== undefined) body.seed = s.seed;
  if (s?.n !== undefined) body.n = s.n;
  if (meta.userId !== undefined && body.user === undefined) body.user = meta.userId;
  body.stream = stream;
  // Usage comes from the engine: a stream always asks for it (the server strips it when the caller did not).
  if (stream) body.stream_options = { ...(isObject(body.stream_options) ? body.stream_options : {}), include_usage: true };
  else delete body.stream_options;
  return body;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function llmPath(meta: RequestMetadata): string {
  return meta.type === RequestType.LLM_CHAT ? '/chat/completions' : '/completions';
}
