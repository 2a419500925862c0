// Finds the retrieved context and the question in a prompt, the way RAG prompts are usually built:
// a system message, a <context>...</context> block, or a "Context:" section followed by "Question:".
import { contentText } from '@sage/common';

export interface PromptParts {
  /** Context text to answer from, empty when the prompt carries none. */
  context: string;
  /** What is asked (the last user turn, or the prompt without its context block). */
  question: string;
}

const TAG_RE = /<context>([\s\S]*?)<\/context>/gi;
const LABEL_RE = /(?:^|\n)\s*(?:context|contexts|documents|sources)\s*:\s*([\s\S]*?)(?=\n\s*(?:question|query|q)\s*:|$)/i;
const QUESTION_RE = /(?:^|\n)\s*(?:question|query|q)\s*:\s*([\s\S]*)$/i;

/** Split one text into its marked context and the rest. */
export function splitMarkedContext(text: string): PromptParts {
  const tagged = [...text.matchAll(TAG_RE)].map((m) => m[1] as string);
  if (tagged.length > 0) {
    const rest = text.replace(TAG_RE, ' ');
    const q = QUESTION_RE.exec(rest);
    return { context: tagged.join('\n'), question: (q ? (q[1] as string) : rest).trim() };
  }
  const labelled = LABEL_RE.exec(text);
  if (labelled) {
    const q = QUESTION_RE.exec(text);
    return { context: (labelled[1] as string).trim(), question: q ? (q[1] as string).trim() : '' };
  }
  return { context: '', question: text.trim() };
}

/** Context and question of a chat conversation: system messages and marked blocks are context. */
export function chatPromptParts(messages: ReadonlyArray<{ role: string; content?: unknown }>): PromptParts {
  const contexts: string[] = [];
  let question = '';
  for (const m of messages) {
    const text = contentText(m.content);
    if (m.role === 'system' || m.role === 'developer') {
      const parts = splitMarkedContext(text);
      contexts.push(parts.context || text);
    } else if (m.role === 'user') {
      const parts = splitMarkedContext(text);
      if (parts.context) contexts.push(parts.context);
      question = parts.question || question;
    }
  }
  return { context: contexts.join('\n').trim(), question };
}
