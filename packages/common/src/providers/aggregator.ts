// LLMAggregator (F-108): several models across providers, tried in configured order until one answers.
// Each failure is recorded (which model, why) so callers and logs can see what failover happened.
import { z } from 'zod';
import { detectEndpoint, type DetectOptions } from '../detection/detect';
import { APIError, LLMError } from '../types/errors';
import { RequestAbortedError } from '../http/retry';
import type { GenerationOptions } from '../clients/generation-options';
import type { ChatMessage } from '../types/openai';
import { logger } from '../util/logger';
import { ProviderManager } from './provider-manager';
import { BUILTIN_PROVIDERS, OpenAICompatibleProvider, type Provider, type ProviderModelSettings } from './provider';

/** Model settings as configuration gives them; snake_case keys (seed 003) are accepted too. */
export interface AggregatorModelSettings {
  apiKey?: string;
  baseUrl?: string;
  /** Seconds. */
  timeout?: number;
  maxRetries?: number;
  maxConcurrentCalls?: number;
  /** Upstream model id when it differs from the configured name. */
  model?: string;
}

export type AggregatorConfig = Record<string, { baseUrl?: string; apiKey?: string; models: Record<string, AggregatorModelSettings | Record<string, unknown>> }>;

export interface ModelFailure {
  provider: string;
  model: string;
  error: string;
  status?: number;
  code?: string | null;
}

export interface GenerateResult {
  content: string;
  provider: string;
  model: string;
  /** Models tried before the one that answered, and why each failed. */
  failures: ModelFailure[];
}

/** Options of one `generateResponse` call: the generation parameters (each configured model keeps its own name), and a signal. */
export interface AggregatorGenerateOptions extends Omit<GenerationOptions, 'model'> {
  signal?: AbortSignal;
}

/** Every configured model failed; `failures` says which and why, in the order tried. */
export class AllModelsFailedError extends LLMError {
  constructor(readonly failures: readonly ModelFailure[]) {
    super(`all ${failures.length} configured models failed:\n${failures.map((f) => `  - ${f.provider}/${f.model}: ${f.error}`).join('\n')}`, { code: 'all_models_failed' });
  }
}

const SNAKE: Record<string, string> = { api_key: 'apiKey', base_url: 'baseUrl', max_retries: 'maxRetries', max_concurrent_calls: 'maxConcurrentCalls' };
const camel = (raw: unknown): unknown =>
  raw && typeof raw === 'object' && !Array.isArray(raw) ? Object.fromEntries(Object.entries(raw).map(([k, v]) => [SNAKE[k] ?? k, v])) : raw;

const ModelSettingsSchema = z.preprocess(
  camel,
  z.object({
    apiKey: z.string().optional(),
    baseUrl: z.url({ message: 'baseUrl must be a URL' }).optional(),
    timeout: z.number().positive().optional(),
    maxRetries: z.number().int().nonnegative().optional(),
    maxConcurrentCalls: z.number().int().positive().optional(),
    model: z.string().min(1).optional(),
    provider: z.string().optional(),
  }),
);
const ConfigSchema = z.record(
  z.string(),
  z.preprocess(camel, z.object({ baseUrl: z.url().optional(), apiKey: z.string().optional(), models: z.record(z.string(), ModelSettingsSchema) })),
);

function providerFromUrl(url: string | undefined): string {
  const host = url ? new URL(url).hostname : '';
  if (host.endsWith('openai.com')) return 'openai';
  if (host.includes('deepseek')) return 'deepseek';
  if (host.includes('dashscope')) return 'dashscope';
  return 'openai-compatible';
}

export class LLMAggregator {
  readonly manager: ProviderManager;
  private order: Array<{ provider: string; model: string }> = [];
  /** Failures of the most recent generateResponse call. */
  lastFailures: ModelFailure[] = [];
  private readonly detectOptions: DetectOptions;

  /** By default the aggregator has its own manager, so two aggregators never share providers by accident. */
  constructor(opts: { manager?: ProviderManager; detect?: DetectOptions } = {}) {
    this.manager = opts.manager ?? new ProviderManager();
    this.detectOptions = opts.detect ?? {};
  }

  /** The models, in failover order. */
  get models(): ReadonlyArray<{ provider: string; model: string }> {
    return this.order;
  }

  /**
   * `{ providerName: { models: { modelName: { apiKey, baseUrl, timeout, maxRetries, maxConcurrentCalls } } } }`.
   * Failover order is the order of providers, then of models within each. Returns availability per model.
   */
  async initialize(config: AggregatorConfig, opts: { checkAvailability?: boolean } = {}): Promise<Record<string, Record<string, boolean>>> {
    const parsed = ConfigSchema.safeParse(config);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new LLMError(`invalid aggregator configuration at '${issue?.path.join('.')}': ${issue?.message}`);
    }
    const availability: Record<string, Record<string, boolean>> = {};
    for (const [name, p] of Object.entries(parsed.data)) {
      const models: Record<string, ProviderModelSettings> = {};
      for (const [model, s] of Object.entries(p.models)) {
        const { provider: _ignored, ...settings } = s;
        models[model] = settings;
      }
      const Ctor = BUILTIN_PROVIDERS[name] ?? OpenAICompatibleProvider;
      const provider: Provider = new Ctor({ name, baseUrl: p.baseUrl, apiKey: p.apiKey, models });
      this.manager.registerProvider(provider, { replace: true });
      this.order = this.order.filter((o) => o.provider !== name);
      for (const model of provider.listModels()) this.order.push({ provider: name, model });
      availability[name] = await provider.initializeAllModels({ checkAvailability: opts.checkAvailability ?? true });
    }
    return availability;
  }

  /**
   * The flat `LLM_MODEL` map older settings used: `{ name: { api_key, base_url, model } }`, either as
   * `settings.LLM_MODEL` or the map itself. The provider of each model is inferred from its base URL.
   */
  async initializeFromSettings(settings: { LLM_MODEL?: Record<string, Record<string, unknown>> } | Record<string, Record<string, unknown>>, opts: { checkAvailability?: boolean } = {}) {
    const map = (('LLM_MODEL' in settings ? settings.LLM_MODEL : settings) ?? {}) as Record<string, Record<string, unknown>>;
    const config: AggregatorConfig = {};
    for (const [name, raw] of Object.entries(map)) {
      const s = camel(raw) as { baseUrl?: string; provider?: string };
      const provider = s.provider ?? providerFromUrl(s.baseUrl);
      (config[provider] ??= { models: {} }).models[name] = raw;
    }
    return this.initialize(config, opts);
  }

  /** The reply of the first model in order that answers. Throws AllModelsFailedError if none does. */
  async generateResponse(messages: ReadonlyArray<ChatMessage>, opts: AggregatorGenerateOptions = {}): Promise<string> {
    return (await this.generateResponseDetailed(messages, opts)).content;
  }

  async generateResponseDetailed(messages: ReadonlyArray<ChatMessage>, opts: AggregatorGenerateOptions = {}): Promise<GenerateResult> {
    if (this.order.length === 0) await this.initializeFromDetection();
    const failures: ModelFailure[] = [];
    this.lastFailures = failures;
    for (const { provider, model } of this.order) {
      try {
        const client = this.manager.getLlmClient(provider, model);
        const res = await client.chatCompletion(
          {
            messages: [...messages],
            ...(opts.maxTokens !== undefined && { max_tokens: opts.maxTokens }),
            ...(opts.temperature !== undefined && { temperature: opts.temperature }),
            ...(opts.topP !== undefined && { top_p: opts.topP }),
            ...(opts.stop !== undefined && { stop: opts.stop }),
            ...(opts.seed !== undefined && { seed: opts.seed }),
          },
          { signal: opts.signal },
        );
        const content = res.choices[0]?.message.content;
        if (typeof content !== 'string') throw new APIError('the reply had no text content', { code: 'empty_response', retryable: false });
        return { content, provider, model, failures };
      } catch (err) {
        if (err instanceof RequestAbortedError) throw err;
        const failure: ModelFailure = {
          provider,
          model,
          error: err instanceof Error ? err.message : String(err),
          ...(err instanceof APIError && { status: err.status, code: err.code }),
        };
        failures.push(failure);
        logger.warn(failure, 'model failed; failing over to the next one');
      }
    }
    throw new AllModelsFailedError(failures);
  }

  /** With no configuration, use the endpoint detection finds (compatibility with `new LLMAggrator()`). */
  private async initializeFromDetection(): Promise<void> {
    const e = await detectEndpoint('llm', this.detectOptions);
    await this.initialize({ [`auto-${e.source}`]: { models: { [e.modelName]: { baseUrl: e.baseUrl, apiKey: e.apiKey } } } }, { checkAvailability: false });
  }

  healthCheck(timeoutMs?: number): Promise<Record<string, Record<string, boolean>>> {
    return this.manager.healthCheck(timeoutMs);
  }

  async close(): Promise<void> {
    await this.manager.closeAll();
    this.order = [];
  }
}

/** The name older code used (seed 003 keeps it for compatibility). */
export const LLMAggrator = LLMAggregator;
export type LLMAggrator = LLMAggregator;
