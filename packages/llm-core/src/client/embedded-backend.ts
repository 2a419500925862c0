// Embedded mode: an in-process ControlPlaneManager fronting built-in sim engines started as child
// processes by the launcher. close() stops the manager and every engine it started.
import { ControlPlaneManager } from '../control-plane/manager';
import { launchSimEngine, type LaunchedEngine } from '../control-plane/launcher';
import { InstanceType, type ChatMessageLike } from '../control-plane/types';
import { chunkText, completionText, type Backend, type CallOptions, type EmbedOptions, type InstanceInfo } from './backend';

export interface EmbeddedOptions {
  schedulingPolicy: string;
  timeoutSec: number;
  llmModel: string;
  embeddingModel: string;
  /** Time scale of the sim engines: wall seconds per model second (default 1; 0.1 is ten times faster). */
  timeScale?: number;
}

function sampling(o: CallOptions) {
  return { temperature: o.temperature, topP: o.topP, stop: o.stop, seed: o.seed };
}

export class EmbeddedBackend implements Backend {
  readonly mode = 'embedded' as const;

  private constructor(
    private readonly manager: ControlPlaneManager,
    private readonly engines: LaunchedEngine[],
    readonly defaultLlmModel: string,
    readonly defaultEmbeddingModel: string,
  ) {}

  static async start(opts: EmbeddedOptions): Promise<EmbeddedBackend> {
    // The policy name is checked before any process starts: an unknown name is an error, not a fallback.
    const manager = new ControlPlaneManager({ policy: opts.schedulingPolicy, requestTimeoutMs: opts.timeoutSec * 1000 });
    const engines: LaunchedEngine[] = [];
    try {
      const [llm, emb] = await Promise.all([
        launchSimEngine({ kind: 'sim-llm', model: opts.llmModel, timeScale: opts.timeScale }).then((e) => (engines.push(e), e)),
        launchSimEngine({ kind: 'sim-embedding', model: opts.embeddingModel, timeScale: opts.timeScale }).then((e) => (engines.push(e), e)),
      ]);
      manager.registerInstance({ id: 'embedded-llm', baseUrl: llm.baseUrl, models: [opts.llmModel], type: InstanceType.GENERAL });
      manager.registerInstance({ id: 'embedded-embedding', baseUrl: emb.baseUrl, models: [opts.embeddingModel], type: InstanceType.EMBEDDING });
    } catch (err) {
      await manager.close();
      await Promise.all(engines.map((e) => e.stop()));
      throw err;
    }
    return new EmbeddedBackend(manager, engines, opts.llmModel, opts.embeddingModel);
  }

  async chat(messages: ChatMessageLike[], o: CallOptions): Promise<string> {
    const r = await this.manager.submit({ model: o.model ?? this.defaultLlmModel, messages, maxTokens: o.maxTokens, sampling: sampling(o), priority: o.priority, sloDeadlineMs: o.sloDeadlineMs, signal: o.signal });
    return completionText(r.body);
  }

  async generate(prompt: string, o: CallOptions): Promise<string> {
    const r = await this.manager.submit({ model: o.model ?? this.defaultLlmModel, prompt, maxTokens: o.maxTokens, sampling: sampling(o), priority: o.priority, sloDeadlineMs: o.sloDeadlineMs, signal: o.signal });
    return completionText(r.body);
  }

  async *stream(messages: ChatMessageLike[], o: CallOptions): AsyncIterable<string> {
    const s = await this.manager.submitStream({ model: o.model ?? this.defaultLlmModel, messages, maxTokens: o.maxTokens, sampling: sampling(o), priority: o.priority, sloDeadlineMs: o.sloDeadlineMs, signal: o.signal });
    for await (const chunk of s) {
      const t = chunkText(chunk);
      if (t) yield t;
    }
  }

  async embed(texts: string[], o: EmbedOptions): Promise<number[][]> {
    const r = await this.manager.submit({
      model: o.model ?? this.defaultEmbeddingModel,
      input: texts,
      priority: o.priority,
      signal: o.signal,
      extraBody: o.dimensions !== undefined ? { dimensions: o.dimensions } : undefined,
    });
    const data = r.body.data as Array<{ embedding: number[] }>;
    return data.map((d) => d.embedding);
  }

  async getMetrics(): Promise<Record<string, unknown>> {
    return { mode: 'embedded', policy: this.manager.policy.name, queueLength: this.manager.queueLength, ...this.manager.getMetrics() };
  }

  async getInstances(): Promise<InstanceInfo[]> {
    return this.manager.getInstances().map((i) => ({ ...i, load: { ...i.load } }));
  }

  /** Pids of the engines this backend started (for tests and status). */
  get enginePids(): number[] {
    return this.engines.map((e) => e.pid);
  }

  async close(): Promise<void> {
    await this.manager.close();
    await Promise.all(this.engines.map((e) => e.stop()));
  }
}
