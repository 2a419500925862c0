// Remote mode: a running sage control plane's OpenAI API through the official `openai` SDK. Priority and
// deadline travel as the x-sage-priority / x-sage-slo-ms headers (F-301), ignored by plain engines.
import OpenAI from 'openai';
import { serverRootUrl } from '@sage/common';
import type { ChatMessageLike } from '../control-plane/types';
import type { Backend, CallOptions, EmbedOptions, InstanceInfo } from './backend';

export interface RemoteOptions {
  baseUrl: string;
  apiKey?: string;
  timeoutSec: number;
  defaultLlmModel?: string;
  defaultEmbeddingModel?: string;
}


function headers(o: { priority?: string; sloDeadlineMs?: number }): Record<string, string> {
  const h: Record<string, string> = {};
  if (o.priority) h['x-sage-priority'] = o.priority;
  if (o.sloDeadlineMs !== undefined) h['x-sage-slo-ms'] = String(o.sloDeadlineMs);
  return h;
}

/** OpenAI's sampling fields from our call options; every generation request (chat, stream, completions) sends them alike. */
function samplingParams(o: CallOptions) {
  return { max_tokens: o.maxTokens, temperature: o.temperature, top_p: o.topP, stop: o.stop, seed: o.seed };
}

export class RemoteBackend implements Backend {
  readonly mode = 'remote' as const;
  private readonly client: OpenAI;
  private readonly root: string;
  private modelsCache?: Promise<Array<{ id: string; kind?: string }>>;

  constructor(private readonly opts: RemoteOptions) {
    this.root = serverRootUrl(opts.baseUrl);
    this.client = new OpenAI({ baseURL: `${this.root}/v1`, apiKey: opts.apiKey ?? 'sage', timeout: opts.timeoutSec * 1000, maxRetries: 2 });
  }

  get defaultLlmModel(): string | undefined {
    return this.opts.defaultLlmModel;
  }

  get defaultEmbeddingModel(): string | undefined {
    return this.opts.defaultEmbeddingModel;
  }

  private models(): Promise<Array<{ id: string; kind?: string }>> {
    this.modelsCache ??= this.client.models.list().then((page) =>
      page.data.map((m) => ({ id: m.id, kind: (m as unknown as { sage_kind?: string; kind?: string }).sage_kind ?? (m as unknown as { kind?: string }).kind })),
    );
    return this.modelsCache;
  }

  private async model(explicit: string | undefined, kind: 'llm' | 'embedding'): Promise<string> {
    if (explicit) return explicit;
    const preset = kind === 'llm' ? this.opts.defaultLlmModel : this.opts.defaultEmbeddingModel;
    if (preset) return preset;
    const models = await this.models();
    const found = models.find((m) => m.kind === kind) ?? (kind === 'llm' ? models.find((m) => m.kind === undefined) : undefined);
    if (!found) throw new Error(`the control plane at ${this.root} serves no ${kind} model`);
    return found.id;
  }

  /** The body of a chat request; chat() sends it as is, stream() with `stream: true`. */
  private async chatBody(messages: ChatMessageLike[], o: CallOptions): Promise<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming> {
    return { model: await this.model(o.model, 'llm'), messages: messages as OpenAI.Chat.ChatCompletionMessageParam[], ...samplingParams(o) };
  }

  async chat(messages: ChatMessageLike[], o: CallOptions): Promise<string> {
    const res = await this.client.chat.completions.create(await this.chatBody(messages, o), { headers: headers(o), signal: o.signal });
    return res.choices[0]?.message?.content ?? '';
  }

  async generate(prompt: string, o: CallOptions): Promise<string> {
    const res = await this.client.completions.create(
      { model: await this.model(o.model, 'llm'), prompt, ...samplingParams(o) },
      { headers: headers(o), signal: o.signal },
    );
    return res.choices[0]?.text ?? '';
  }

  async *stream(messages: ChatMessageLike[], o: CallOptions): AsyncIterable<string> {
    const s = await this.client.chat.completions.create({ ...(await this.chatBody(messages, o)), stream: true }, { headers: headers(o), signal: o.signal });
    for await (const chunk of s) {
      const t = chunk.choices[0]?.delta?.content;
      if (t) yield t;
    }
  }

  async embed(texts: string[], o: EmbedOptions): Promise<number[][]> {
    const res = await this.client.embeddings.create(
      { model: await this.model(o.model, 'embedding'), input: texts, dimensions: o.dimensions, encoding_format: 'float' },
      { headers: headers(o), signal: o.signal },
    );
    return [...res.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
  }

  private async getJson(path: string): Promise<unknown> {
    const res = await fetch(`${this.root}${path}`, {
      headers: { accept: 'application/json', ...(this.opts.apiKey ? { authorization: `Bearer ${this.opts.apiKey}` } : {}) },
      signal: AbortSignal.timeout(this.opts.timeoutSec * 1000),
    });
    if (!res.ok) throw new Error(`GET ${path} on the control plane answered ${res.status}`);
    return res.json();
  }

  async getMetrics(): Promise<Record<string, unknown>> {
    return (await this.getJson('/v1/metrics')) as Record<string, unknown>;
  }

  /** The control plane's instances (GET /v1/management/backends: every registered instance with its load). */
  async getInstances(): Promise<InstanceInfo[]> {
    const body = (await this.getJson('/v1/management/backends')) as { backends?: InstanceInfo[] };
    return body.backends ?? [];
  }

  async close(): Promise<void> {
    // The SDK keeps no resources that need releasing; the remote control plane keeps running.
  }
}
