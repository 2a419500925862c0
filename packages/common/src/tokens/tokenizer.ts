// Token counting with a real BPE tokenizer (cl100k_base via js-tiktoken, pure JS, ranks shipped in the package).
// Used for usage accounting, scheduling estimates and batch budgets. The encoder is built lazily once:
// loading the ranks costs ~100 ms, which callers that never count tokens should not pay.
// js-tiktoken ships ESM type declarations; at run time its CommonJS build is required.
import type { Tiktoken, TiktokenBPE } from 'js-tiktoken/lite' with { 'resolution-mode': 'import' };

let encoder: Tiktoken | undefined;
let encoderFailed = false;

function getEncoder(): Tiktoken | undefined {
  if (encoder || encoderFailed) return encoder;
  try {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const lite = require('js-tiktoken/lite') as { Tiktoken: new (ranks: TiktokenBPE) => Tiktoken };
    const ranks = require('js-tiktoken/ranks/cl100k_base') as { default?: TiktokenBPE } & TiktokenBPE;
    /* eslint-enable @typescript-eslint/no-require-imports */
    encoder = new lite.Tiktoken(ranks.default ?? ranks);
  } catch {
    encoderFailed = true; // fall back to the length heuristic below
  }
  return encoder;
}

/** Token ids of `text`. Falls back to one pseudo-token per ~4 characters only if the tokenizer cannot load. */
export function encodeTokens(text: string): number[] {
  const enc = getEncoder();
  if (enc) return enc.encode(text, 'all');
  const n = Math.ceil(text.length / 4);
  return Array.from({ length: n }, (_, i) => i);
}

/** Text of the given token ids (inverse of {@link encodeTokens}). */
export function decodeTokens(tokens: readonly number[]): string {
  const enc = getEncoder();
  if (!enc) throw new Error('tokenizer unavailable: cannot decode token ids');
  return enc.decode([...tokens]);
}

/** Number of tokens in `text`. */
export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  return encodeTokens(text).length;
}

/**
 * Prompt tokens of a chat conversation, counted the way OpenAI documents for its chat models:
 * each message costs its content plus a small framing overhead, and the reply is primed with 3 tokens.
 */
export function countChatTokens(messages: ReadonlyArray<{ role: string; content?: unknown; name?: string }>): number {
  let total = 3;
  for (const m of messages) {
    total += 3 + countTokens(m.role) + countTokens(contentText(m.content));
    if (m.name) total += 1 + countTokens(m.name);
  }
  return total;
}

/** Plain text of a message content (string, or an array of content parts whose text parts are joined). */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (part && typeof part === 'object' && 'text' in part && typeof part.text === 'string' ? part.text : ''))
      .join('');
  }
  return '';
}
