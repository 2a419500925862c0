// The retrieval-augmented prompt. Retrieved chunks go into the system message inside <context> tags,
// numbered [1], [2], … so a model can cite them; the conversation follows unchanged, so the last user
// message is still the question. The tags keep instructions and context apart for any model, and let an
// extractive answerer (the built-in sim engine) find exactly the retrieved text.
import { contentText, type ChatMessage } from '@sage/common';
import type { Passage } from './passages';

export const DEFAULT_INSTRUCTIONS =
  'Answer the question using the numbered context passages below. Cite the passages you use as [n]. ' +
  'If the context does not contain the answer, say that you do not know.';

/** The passages, numbered; the number leads the passage's first sentence so it travels with it. */
export function formatContext(passages: readonly Passage[]): string {
  return passages.map((p) => `[${p.index}] ${p.text}`).join('\n\n');
}

/**
 * Messages for the LLM: one system message (the caller's own system prompts first, then the instructions
 * and the context), then the conversation without its system messages.
 */
export function buildRagMessages(conversation: readonly ChatMessage[], passages: readonly Passage[], instructions = DEFAULT_INSTRUCTIONS): ChatMessage[] {
  const systems = conversation.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => contentText(m.content).trim());
  const rest = conversation.filter((m) => m.role !== 'system' && m.role !== 'developer');
  const context = passages.length > 0 ? formatContext(passages) : '(no documents matched)';
  const system = [...systems.filter((s) => s.length > 0), instructions, `<context>\n${context}\n</context>`].join('\n\n');
  return [{ role: 'system', content: system }, ...rest];
}

/** The [n] citations an answer makes, as 1-based passage numbers that exist. */
export function citedPassages(answer: string, passages: number): number[] {
  const cited = new Set<number>();
  for (const m of answer.matchAll(/\[(\d{1,3})\]/g)) {
    const n = Number(m[1]);
    if (n >= 1 && n <= passages) cited.add(n);
  }
  return [...cited].sort((a, b) => a - b);
}
