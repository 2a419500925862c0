// What every sim-llm reply carries besides its choices (id, object, created, model, fingerprint), the
// stream-chunk framing and the usage block, built once so chat and legacy completions cannot drift apart.
import { randomUUID } from 'node:crypto';
import type { Usage } from '@sage/common';

/** One reply's identity: the full response and every chunk of a stream share it. */
export interface ReplyIdentity {
  id: string;
  created: number;
  model: string;
}

// A type alias, not an interface, so it fits the loose (index-signature) OpenAI types of @sage/common.
export type Envelope<O extends string> = { id: string; object: O; created: number; model: string; system_fingerprint: string };

/** Fields a chunk may add besides its choices: the closing usage, or the prefill's kv_transfer_params. */
export interface ChunkExtras {
  usage?: Usage;
  kv_transfer_params?: Record<string, unknown>;
}

export type StreamChunk<O extends string, C> = Envelope<O> & { choices: C[]; usage?: Usage | null; kv_transfer_params?: Record<string, unknown> };

export function replyIdentity(idPrefix: 'chatcmpl' | 'cmpl', model: string): ReplyIdentity {
  return { id: `${idPrefix}-${randomUUID().replace(/-/g, '')}`, created: Math.floor(Date.now() / 1000), model };
}

export function envelope<O extends string>(reply: ReplyIdentity, object: O): Envelope<O> {
  return { id: reply.id, object, created: reply.created, model: reply.model, system_fingerprint: 'sage-sim' };
}

/** Chunk maker for one stream. Every chunk carries `usage: null` when a usage chunk will close the stream, as OpenAI does. */
export function streamChunks<O extends string>(reply: ReplyIdentity, object: O, includeUsage: boolean) {
  const head = envelope(reply, object);
  return <C>(choices: C[], more: ChunkExtras = {}): StreamChunk<O, C> => ({ ...head, choices, ...(includeUsage ? { usage: null } : {}), ...more });
}

export function tokenUsage(promptTokens: number, completionTokens: number): Usage {
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}
