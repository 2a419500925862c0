// The two ways UnifiedInferenceClient reaches a control plane: over HTTP (a running sage server's
// OpenAI API, through the official `openai` SDK) or in-process (an embedded ControlPlaneRuntime).
// Either way, every request goes through a control plane; never straight to an engine.
import type { GenerationOptions } from '@sage/common';
import type { ChatMessageLike } from '../control-plane/types';

export interface CallOptions extends GenerationOptions {
  /** CRITICAL | HIGH | NORMAL | LOW | BACKGROUND */
  priority?: 'CRITICAL' | 'HIGH' | 'NORMAL' | 'LOW' | 'BACKGROUND';
  /** End-to-end deadline in ms. */
  sloDeadlineMs?: number;
  signal?: AbortSignal;
}

export interface EmbedOptions {
  model?: string;
  dimensions?: number;
  priority?: CallOptions['priority'];
  signal?: AbortSignal;
}

export interface InstanceInfo {
  id: string;
  baseUrl?: string;
  type: string;
  models: string[];
  health: string;
  load?: Record<string, number>;
  [extra: string]: unknown;
}

export interface Backend {
  readonly mode: 'remote' | 'embedded';
  readonly defaultLlmModel?: string;
  readonly defaultEmbeddingModel?: string;
  chat(messages: ChatMessageLike[], opts: CallOptions): Promise<string>;
  generate(prompt: string, opts: CallOptions): Promise<string>;
  stream(messages: ChatMessageLike[], opts: CallOptions): AsyncIterable<string>;
  embed(texts: string[], opts: EmbedOptions): Promise<number[][]>;
  getMetrics(): Promise<Record<string, unknown>>;
  getInstances(): Promise<InstanceInfo[]>;
  close(): Promise<void>;
}

/** Text of the first choice of a chat or text completion body. */
export function completionText(body: Record<string, unknown>): string {
  const choices = body.choices as Array<{ message?: { content?: unknown }; text?: unknown }> | undefined;
  const c = choices?.[0];
  if (!c) return '';
  if (c.message && typeof c.message.content === 'string') return c.message.content;
  return typeof c.text === 'string' ? c.text : '';
}

/** Text delta of a chat or text completion chunk. */
export function chunkText(chunk: Record<string, unknown>): string {
  const choices = chunk.choices as Array<{ delta?: { content?: unknown }; text?: unknown }> | undefined;
  const c = choices?.[0];
  if (!c) return '';
  if (c.delta && typeof c.delta.content === 'string') return c.delta.content;
  return typeof c.text === 'string' ? c.text : '';
}
