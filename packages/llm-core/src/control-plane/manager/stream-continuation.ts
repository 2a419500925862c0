// The pure part of mid-stream failover: what a stream has delivered so far, whether it can be continued on
// another engine, the request that continues it there (vLLM's `continue_final_message` for chat, the prompt
// followed by the text so far for completions), and how the new engine's chunks are made to look like the
// first engine's (same id, model and created; no second role chunk; usage counting every leg).
import { countTokens } from '@sage/common';
import { UpstreamError } from './errors';

export type StreamKind = 'chat' | 'completion';

/** Why a stream left its engine: the connection broke (reset, process exit), no chunk within the idle timeout, or an error event. */
export type FailoverReason = 'connection_lost' | 'idle_timeout' | 'engine_error';

type Chunk = Record<string, unknown>;
type Usage = { prompt_tokens: number; completion_tokens: number; total_tokens: number };

interface ChoiceLike {
  index?: unknown;
  delta?: { role?: unknown; content?: unknown; tool_calls?: unknown; function_call?: unknown } & Record<string, unknown>;
  text?: unknown;
  finish_reason?: unknown;
}

/** The failure reason when a failed leg may be continued elsewhere; undefined when it must end the stream. */
export function failoverReason(err: unknown): FailoverReason | undefined {
  if (!(err instanceof UpstreamError)) return undefined; // cancelled, shut down, or a bug: not the engine's doing
  if (err.upstreamStatus !== undefined && err.upstreamStatus >= 400 && err.upstreamStatus < 500 && err.upstreamStatus !== 429) return undefined;
  if (err.code === 'upstream_timeout') return 'idle_timeout';
  if (err.upstreamBody !== undefined || err.upstreamStatus !== undefined) return 'engine_error';
  return 'connection_lost';
}

/** What the caller has received: the identity of the stream, the text of choice 0, what would stop a continuation. */
export class StreamProgress {
  /** id, created, model (and system_fingerprint) of the first chunk: every later chunk carries them. */
  identity?: { id: unknown; created: unknown; model: unknown; system_fingerprint?: unknown };
  private text = '';
  private contentChunks = 0;
  private toolCalls = false;
  private otherChoices = false;
  private finishReason: unknown = null;
  private usageSeen = false;
  private echoPending: string | undefined;

  constructor(
    readonly kind: StreamKind,
    private readonly payload: Chunk,
  ) {
    // A completion with echo starts with the prompt itself, which is not generated text.
    if (kind === 'completion' && payload.echo === true && typeof payload.prompt === 'string') this.echoPending = payload.prompt;
  }

  observe(chunk: Chunk): void {
    this.identity ??= { id: chunk.id, created: chunk.created, model: chunk.model, system_fingerprint: chunk.system_fingerprint };
    if (chunk.usage && typeof chunk.usage === 'object') this.usageSeen = true;
    const choices = Array.isArray(chunk.choices) ? (chunk.choices as ChoiceLike[]) : [];
    for (const c of choices) {
      if ((c.index ?? 0) !== 0) {
        this.otherChoices = true;
        continue;
      }
      let piece = this.kind === 'chat' ? c.delta?.content : c.text;
      if (this.kind === 'chat' && (c.delta?.tool_calls !== undefined || c.delta?.function_call !== undefined)) this.toolCalls = true;
      if (typeof piece === 'string' && this.echoPending !== undefined) {
        const echo = this.echoPending;
        this.echoPending = undefined;
        if (piece.startsWith(echo)) piece = piece.slice(echo.length);
      }
      if (typeof piece === 'string' && piece.length > 0) {
        this.text += piece;
        this.contentChunks += 1;
      }
      if (c.finish_reason !== null && c.finish_reason !== undefined) this.finishReason = c.finish_reason;
    }
  }

  /** The text generated so far (choice 0, without an echoed prompt). */
  get generated(): string {
    return this.text;
  }

  /** Tokens generated so far: content chunks (one per token for vLLM-style engines), or the tokenizer's count when larger. */
  get tokens(): number {
    return Math.max(this.contentChunks, this.text ? countTokens(this.text) : 0);
  }

  /** The engine already sent the final chunk (finish reason): only [DONE] or the usage chunk went missing. */
  get finished(): boolean {
    return this.finishReason !== null;
  }

  get sawUsage(): boolean {
    return this.usageSeen;
  }

  /** Why this stream cannot be continued elsewhere (it then ends with an error event, as before); undefined when it can. */
  blocker(): string | undefined {
    const n = typeof this.payload.n === 'number' ? this.payload.n : 1;
    if (n > 1 || this.otherChoices) return 'n > 1';
    if (this.toolCalls) return 'tool calls';
    // The continuation appends the text so far to a text prompt; a prompt list or token ids cannot be extended so.
    if (this.kind === 'completion' && typeof this.payload.prompt !== 'string') return 'prompt is a list or token ids';
    return undefined;
  }
}

/** Subtracts what was generated from a token budget, keeping at least one token. */
function reduced(budget: unknown, used: number): number | undefined {
  return typeof budget === 'number' ? Math.max(1, budget - used) : undefined;
}

/**
 * The request that continues the stream on another engine: the same sampling settings and seed, the text so far
 * as an open assistant message (chat) or after the prompt (completions), and the token budget reduced by it.
 */
export function continuationPayload(original: Chunk, kind: StreamKind, generated: string, tokens: number): Chunk {
  const out: Chunk = { ...original };
  // Prefill/decode hand-off belongs to the first engine's leg; the new one does both.
  delete out.kv_transfer_params;
  if (generated === '') return out;
  if (kind === 'chat') {
    out.messages = [...((original.messages as unknown[]) ?? []), { role: 'assistant', content: generated }];
    out.continue_final_message = true;
    out.add_generation_prompt = false;
  } else {
    out.prompt = `${typeof original.prompt === 'string' ? original.prompt : ''}${generated}`;
    delete out.echo; // the caller already has the prompt
  }
  for (const field of ['max_tokens', 'max_completion_tokens']) {
    const left = reduced(original[field], tokens);
    if (left !== undefined) out[field] = left;
  }
  return out;
}

/** What earlier legs count for in the usage the last leg reports. */
export interface EarlierLegs {
  promptTokens: number;
  completionTokens: number;
}

/**
 * A chunk of a later leg as the caller must see it: the first leg's identity; no role announcement (the caller
 * had one); no empty chunk; usage adding the earlier legs' tokens. Undefined when nothing is left to send.
 */
export function rewriteChunk(chunk: Chunk, kind: StreamKind, identity: NonNullable<StreamProgress['identity']>, earlier: EarlierLegs): Chunk | undefined {
  const out: Chunk = { ...chunk, id: identity.id, created: identity.created, model: identity.model };
  if (identity.system_fingerprint !== undefined) out.system_fingerprint = identity.system_fingerprint;
  else delete out.system_fingerprint;
  const choices = Array.isArray(chunk.choices) ? (chunk.choices as ChoiceLike[]) : [];
  const kept = choices.flatMap((c) => {
    const finish = c.finish_reason !== null && c.finish_reason !== undefined;
    if (kind === 'chat') {
      const { role: _role, ...delta } = c.delta ?? {};
      const empty = Object.keys(delta).every((k) => delta[k] === undefined || delta[k] === null || delta[k] === '');
      if (empty && !finish) return [];
      return [{ ...c, delta }];
    }
    if ((c.text === '' || c.text === undefined) && !finish) return [];
    return [c];
  });
  out.choices = kept;
  const usage = chunk.usage as Usage | null | undefined;
  if (usage && typeof usage === 'object') {
    const promptTokens = (usage.prompt_tokens ?? 0) + earlier.promptTokens;
    const completionTokens = (usage.completion_tokens ?? 0) + earlier.completionTokens;
    out.usage = { ...usage, prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
  }
  if (kept.length === 0 && choices.length > 0 && !(usage && typeof usage === 'object')) return undefined;
  return out;
}
