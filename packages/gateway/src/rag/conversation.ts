// What a chat request means once its session is taken into account: the stored history, the messages the
// request adds, and the system prompt. Clients may send only the new turn, or (as OpenAI clients do) the
// whole conversation again: when the request repeats the stored history, only what follows it is new.
import { contentText, type ChatMessage } from '@sage/common';

export interface Conversation {
  system: string | null;
  /** History plus the new messages, without system messages. */
  turns: ChatMessage[];
  /** The messages this request adds to the session. */
  added: ChatMessage[];
}

const same = (a: ChatMessage, b: ChatMessage) => a.role === b.role && contentText(a.content) === contentText(b.content);

export function resolveConversation(request: readonly ChatMessage[], history: readonly ChatMessage[], storedSystem: string | null): Conversation {
  const systemTexts = request.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => contentText(m.content));
  const incoming = request.filter((m) => m.role !== 'system' && m.role !== 'developer');
  // The stored window may have been cut at the front, so the history can start anywhere in the request.
  let newFrom = 0;
  for (let k = incoming.length - history.length - 1; history.length > 0 && k >= 0; k--) {
    if (history.every((m, i) => same(m, incoming[k + i] as ChatMessage))) {
      newFrom = k + history.length;
      break;
    }
  }
  const added = incoming.slice(newFrom);
  return { system: systemTexts.length > 0 ? systemTexts.join('\n\n') : storedSystem, turns: [...history, ...added], added };
}
