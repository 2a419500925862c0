// Provider (F-107, seed 003's Provider layer): the models of one service, each behind a ModelClient.
// Built-ins know their service's base URL; `Provider` itself is any OpenAI-compatible endpoint (vLLM, a sage
// control plane, ...). Subclasses may override createClient() to talk to something else.
import { LLMError, ModelNotFoundError } from '../types/errors';
import { ModelClient, type ModelConfig } from './model-client';

/** Settings of one model within a provider; unset fields come from the provider. */
export type ProviderModelSettings = Partial<Omit<ModelConfig, 'name'>>;

export interface ProviderOptions {
  name?: string;
  baseUrl?: string;
  apiKey?: string;
  models?: Record<string, ProviderModelSettings>;
}

export interface ModelAvailability {
  available: boolean;
  checkedAt: number;
}

type ProviderClass<T extends Provider> = { new (opts?: ProviderOptions): T; readonly providerName: string };

export class Provider {
  /** Name used when none is given. */
  static readonly providerName: string = 'openai-compatible';
  /** Base URL used when none is given (none for a generic endpoint). */
  static readonly defaultBaseUrl: string | undefined = undefined;

  readonly name: string;
  readonly baseUrl: string | undefined;
  readonly apiKey: string | undefined;
  private readonly configs = new Map<string, ModelConfig>();
  private readonly clients = new Map<string, ModelClient>();
  private readonly availability = new Map<string, ModelAvailability>();

  constructor(opts: ProviderOptions = {}) {
    const ctor = this.constructor as typeof Provider;
    this.name = opts.name ?? ctor.providerName;
    this.baseUrl = opts.baseUrl ?? ctor.defaultBaseUrl;
    this.apiKey = opts.apiKey;
    for (const [model, settings] of Object.entries(opts.models ?? {})) this.addModel(model, settings);
  }

  /** A provider with one model: `OpenAIProvider.createSimple({ apiKey, modelName })`. */
  static createSimple<T extends Provider>(
    this: ProviderClass<T>,
    opts: { apiKey?: string; modelName: string; baseUrl?: string; name?: string } & ProviderModelSettings,
  ): T {
    const { apiKey, modelName, baseUrl, name, ...settings } = opts;
    return new this({ name, apiKey, baseUrl, models: { [modelName]: settings } });
  }

  /** Registers (or replaces) a model. Its client is created on first use or by initializeAllModels(). */
  addModel(name: string, settings: ProviderModelSettings = {}): this {
    const baseUrl = settings.baseUrl ?? this.baseUrl;
    if (!baseUrl) throw new LLMError(`provider "${this.name}": model "${name}" needs a baseUrl (this provider has no default)`);
    this.configs.set(name, { ...settings, name, baseUrl, apiKey: settings.apiKey ?? this.apiKey });
    this.clients.get(name)?.close();
    this.clients.delete(name);
    this.availability.delete(name);
    return this;
  }

  /** Builds the client of one model. Override to support a non-OpenAI API. */
  protected createClient(config: ModelConfig): ModelClient {
    return new ModelClient(config);
  }

  listModels(): string[] {
    return [...this.configs.keys()];
  }

  hasModel(name: string): boolean {
    return this.configs.has(name);
  }

  getClient(name: string): ModelClient {
    const existing = this.clients.get(name);
    if (existing) return existing;
    const config = this.configs.get(name);
    if (!config) throw new ModelNotFoundError(name, this.listModels());
    const client = this.createClient(config);
    this.clients.set(name, client);
    return client;
  }

  /**
   * Creates every model's client and, unless told not to, checks each endpoint answers.
   * Returns availability per model; an unavailable model stays registered (it may come back).
   */
  async initializeAllModels(opts: { checkAvailability?: boolean; timeoutMs?: number } = {}): Promise<Record<string, boolean>> {
    for (const name of this.configs.keys()) this.getClient(name);
    if (opts.checkAvailability === false) {
      for (const name of this.configs.keys()) this.availability.set(name, { available: true, checkedAt: Date.now() });
      return Object.fromEntries(this.listModels().map((m) => [m, true]));
    }
    return this.healthCheck(opts.timeoutMs);
  }

  /** Undefined until checked. */
  isModelAvailable(name: string): boolean | undefined {
    return this.availability.get(name)?.available;
  }

  async healthCheck(timeoutMs?: number): Promise<Record<string, boolean>> {
    const names = this.listModels();
    const results = await Promise.all(names.map((n) => this.getClient(n).healthCheck(timeoutMs)));
    names.forEach((n, i) => this.availability.set(n, { available: results[i] === true, checkedAt: Date.now() }));
    return Object.fromEntries(names.map((n, i) => [n, results[i] === true]));
  }

  async close(): Promise<void> {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

export class OpenAIProvider extends Provider {
  static override readonly providerName: string = 'openai';
  static override readonly defaultBaseUrl: string | undefined = 'https://api.openai.com/v1';
}

export class DeepSeekProvider extends Provider {
  static override readonly providerName: string = 'deepseek';
  static override readonly defaultBaseUrl: string | undefined = 'https://api.deepseek.com/v1';
}

export class DashScopeProvider extends Provider {
  static override readonly providerName: string = 'dashscope';
  static override readonly defaultBaseUrl: string | undefined = 'https://dashscope.aliyuncs.com/compatible-mode/v1';
}

/** Any OpenAI-compatible server (vLLM, SGLang, llama.cpp, TEI for embeddings, a sage control plane). */
export class OpenAICompatibleProvider extends Provider {}

export class VLLMProvider extends Provider {
  static override readonly providerName: string = 'vllm';
  static override readonly defaultBaseUrl: string | undefined = 'http://localhost:8001/v1';
}

/** Built-in provider classes by name, for configuration files. */
export const BUILTIN_PROVIDERS: Readonly<Record<string, new (opts?: ProviderOptions) => Provider>> = {
  openai: OpenAIProvider,
  deepseek: DeepSeekProvider,
  dashscope: DashScopeProvider,
  vllm: VLLMProvider,
  'openai-compatible': OpenAICompatibleProvider,
};
