// Continuing a generation that started elsewhere, as vLLM does: a chat whose final assistant message is left
// open (`continue_final_message: true`, `add_generation_prompt: false`), or a completion prompt that already
// ends with the start of its answer. The simulator's answers are fixed by the request (seed, or prompt hash), so
// it finds the uninterrupted run's answer, checks that the text already written is a whole-token prefix of it,
// and emits the rest: leg one's text followed by this one equals one uninterrupted run.
import { contentText, countTokens, SageError } from '@sage/common';
import { z } from 'zod';
import type { Answer } from '../text/answer';
import { planAnswers, type GenerationPrompt, type GenerationSampling } from './generation';

/** vLLM's chat-template fields, accepted by the chat route. */
export const ChatContinuationFields = {
  continue_final_message: z.boolean().nullable().optional(),
  add_generation_prompt: z.boolean().nullable().optional(),
};

type Message = { role: string; content?: unknown };

export interface ChatContinuation<M extends Message> {
  /** The conversation before the open assistant message. */
  base: M[];
  /** The assistant text written so far. */
  prefix: string;
}

/** The open assistant message of a chat, or undefined for an ordinary chat; vLLM's 400s for bad combinations. */
export function chatContinuation<M extends Message>(body: { messages: M[]; continue_final_message?: boolean | null; add_generation_prompt?: boolean | null }): ChatContinuation<M> | undefined {
  if (body.continue_final_message !== true) return undefined;
  if (body.add_generation_prompt !== false) {
    throw new SageError('Cannot set both `continue_final_message` and `add_generation_prompt` to True.', { status: 400, param: 'continue_final_message', code: 'invalid_value' });
  }
  const last = body.messages[body.messages.length - 1] as M;
  if (last.role !== 'assistant') {
    throw new SageError('`continue_final_message` needs the final message to be an assistant message', { status: 400, param: 'messages', code: 'invalid_value' });
  }
  return { base: body.messages.slice(0, -1), prefix: contentText(last.content) };
}

/** How many whole pieces of `a` make up `text` exactly; -1 when `text` is not such a prefix. */
function piecesIn(a: Answer, text: string): number {
  if (text.length === 0) return 0;
  let chars = 0;
  for (let k = 0; k < a.pieces.length; k++) {
    const piece = a.pieces[k] as string;
    if (text.slice(chars, chars + piece.length) !== piece) return -1;
    chars += piece.length;
    if (chars === text.length) return k + 1;
  }
  return -1;
}

/** The rest of `full` after its first k pieces, within the budget of this request. */
function rest(full: Answer, k: number, s: GenerationSampling): Answer {
  let pieces = full.pieces.slice(k, k + s.maxTokens);
  const cut = k + s.maxTokens < full.pieces.length;
  // The uninterrupted run had ended right there: the model samples its end-of-sequence token.
  if (pieces.length === 0) pieces = [''];
  return { text: pieces.join(''), pieces, finishReason: cut ? 'length' : full.finishReason, completionTokens: pieces.length, extractive: full.extractive };
}

/**
 * The answers that continue `prefixOf(choice)` for a request whose uninterrupted form is `base`; undefined when
 * some prefix is not the start of that run's answer (the caller then answers the request as it stands).
 */
function continueAnswers(base: GenerationPrompt, s: GenerationSampling, prefixOf: (choice: number) => string): Answer[] | undefined {
  const out: Answer[] = [];
  for (let choice = 0; choice < s.n; choice++) {
    const prefix = prefixOf(choice);
    const one = (maxTokens: number) => planAnswers(base, { ...s, n: 1, maxTokens }, choice)[0] as Answer;
    // With max_tokens the run's length was what was written plus what is asked now: find the first, then plan it.
    let full = one(s.maxTokensGiven ? s.maxTokens + countTokens(prefix) + 8 : s.maxTokens);
    let k = piecesIn(full, prefix);
    if (k < 0) return undefined;
    if (s.maxTokensGiven) {
      full = one(k + s.maxTokens);
      k = piecesIn(full, prefix);
      if (k < 0) return undefined;
    }
    out.push(rest(full, k, s));
  }
  return out;
}

/** Answers of a chat that continues its open assistant message (a fresh answer when the text is not ours). */
export function chatContinuationAnswers(base: GenerationPrompt, prompt: GenerationPrompt, prefix: string, s: GenerationSampling): Answer[] {
  return continueAnswers(base, s, () => prefix) ?? planAnswers(prompt, s);
}

/**
 * Answers of a completion: when the prompt ends with the start of the answer it would get without that start
 * (a failed-over stream sends the prompt followed by the text so far), the rest of that answer; else the usual.
 */
export function completionAnswers(prompt: GenerationPrompt, s: GenerationSampling): Answer[] {
  const usual = planAnswers(prompt, s);
  if (s.prefillOnly) return usual;
  const text = prompt.promptText;
  // Where the written text could start: occurrences of the answer's first pieces (rare in an ordinary prompt).
  const head = usual[0]?.pieces.slice(0, 2).join('') ?? '';
  if (!head) return usual;
  for (let at = text.indexOf(head); at > 0; at = text.indexOf(head, at + 1)) {
    const written = text.slice(at);
    const continued = continueAnswers(prompt, s, () => written);
    if (continued) return continued;
  }
  return usual;
}
