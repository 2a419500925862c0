// Prompt tokens, counted with the tokenizer only where a figure must be exact — prefill/decode separation's
// threshold, and the record of a completed request whose engine reported no usage — and then once per request (kept
// on its metadata). Scheduling estimates read `promptTokens` when it is there and count characters otherwise; so
// does the record of a request no engine processed (refused, failed, cancelled), so that refusing a long prompt
// under overload never costs a tokenizer pass. Token ids are counted as they are: they are the engine's own tokens.
import { countChatTokens, countTokens } from '@sage/common';
import { RequestType, type RequestMetadata } from '../types';

/** Characters per token of the estimate (as the latency estimator's default). */
const CHARS_PER_TOKEN = 4;

/** Tokens of a prompt given as a list (texts through `text`, token ids counted one each). */
function listTokens(list: ReadonlyArray<string | number | number[]>, text: (s: string) => number): number {
  let n = 0;
  for (const p of list) n += typeof p === 'string' ? text(p) : typeof p === 'number' ? 1 : p.length;
  return n;
}

function measure(meta: RequestMetadata, text: (s: string) => number, chat: (m: NonNullable<RequestMetadata['messages']>) => number): number {
  if (meta.type === RequestType.EMBEDDING) {
    if (meta.embeddingTokenIds) return listTokens(meta.embeddingTokenIds, text);
    return listTokens(meta.embeddingTexts ?? [], text);
  }
  if (meta.type === RequestType.LLM_CHAT) return chat(meta.messages ?? []);
  if (Array.isArray(meta.promptInput)) return listTokens(meta.promptInput as ReadonlyArray<string | number | number[]>, text);
  return text(meta.prompt ?? '');
}

const estimateText = (s: string) => Math.ceil(s.length / CHARS_PER_TOKEN);
const estimateChat = (messages: NonNullable<RequestMetadata['messages']>) => {
  let chars = 0;
  for (const m of messages) chars += typeof m.content === 'string' ? m.content.length : JSON.stringify(m.content ?? '').length;
  return Math.ceil(chars / CHARS_PER_TOKEN);
};

/** The tokenizer's count, made the first time it is asked for and kept on the metadata. */
export function promptTokenCount(meta: RequestMetadata): number {
  meta.promptTokens ??= measure(meta, countTokens, countChatTokens);
  return meta.promptTokens;
}

/** The exact count when it is known, else an estimate from the prompt's characters. */
export function promptTokenEstimate(meta: RequestMetadata): number {
  return meta.promptTokens ?? measure(meta, estimateText, estimateChat);
}
