// What the intelligent clients share: an OpenAI SDK client bound to one endpoint, the retry policy,
// and — for auto-detected endpoints — re-detection once when the endpoint stops answering (F-102).
import OpenAI from 'openai';
import { detectEndpoint, invalidateDetection, type DetectedEndpoint, type DetectOptions, type EndpointPurpose, type EndpointSource } from '../detection/detect';
import { APIError } from '../types/errors';
import { ModelListSchema, type Model } from '../types/openai';
import { DEFAULT_TIMEOUT_MS, isConnectionError, withRetry, type RetryPolicy } from '../http/retry';
import { logger } from '../util/logger';

export interface EndpointClientConfig {
  modelName: string;
  baseUrl: string;
  /** Omitted for local engines; the SDK is given a placeholder because it insists on one. */
  apiKey?: string;
  /** Default deadline per call, retries included (default 120 s). */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
}

export interface AutoClientOptions extends DetectOptions {
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
}

export interface RequestOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

export abstract class EndpointClient {
  protected sdk!: OpenAI;
  private config!: EndpointClientConfig;
  private source: EndpointSource | 'manual' = 'manual';
  private detectOptions: DetectOptions | undefined;
  protected endpoint: DetectedEndpoint | undefined;

  protected constructor(
    private readonly purpose: EndpointPurpose,
    config: EndpointClientConfig,
  ) {
    this.bind(config);
  }

  get modelName(): string {
    return this.config.modelName;
  }
  get baseUrl(): string {
    return this.config.baseUrl;
  }
  /**
   * The endpoint's model list (`GET /v1/models`), each entry with the metadata its server adds (a sage engine or
   * control plane says what it is: `sage_kind`, `engine`, `sage_engines`, …). Under the retry policy, like any call.
   */
  async models(opts: RequestOptions = {}): Promise<Model[]> {
    const body = await this.run((sdk, signal) => sdk.get<unknown>('/models', { signal, maxRetries: 0 }), opts);
    const list = ModelListSchema.safeParse(body);
    if (!list.success) throw new APIError(`${this.config.baseUrl}/models did not return an OpenAI model list`, { code: 'invalid_response', retryable: false });
    return list.data.data;
  }

  /** Where the endpoint came from: 'manual' (constructor), or the detection source. */
  get endpointSource(): EndpointSource | 'manual' {
    return this.source;
  }

  /** Marks this client as auto-detected, so that a dead endpoint is re-detected once. */
  protected attachDetection(endpoint: DetectedEndpoint, options: DetectOptions): void {
    this.endpoint = endpoint;
    this.source = endpoint.source;
    this.detectOptions = options;
  }

  private bind(config: EndpointClientConfig): void {
    this.config = { ...config, timeoutMs: config.timeoutMs ?? this.config?.timeoutMs, retry: config.retry ?? this.config?.retry };
    // maxRetries: 0 — the retry policy lives in http/retry.ts, once. The SDK's fetch (undici) keeps connections alive.
    this.sdk = new OpenAI({ baseURL: config.baseUrl, apiKey: config.apiKey || 'EMPTY', maxRetries: 0, timeout: this.config.timeoutMs ?? DEFAULT_TIMEOUT_MS });
  }

  private get redetectable(): boolean {
    return this.detectOptions !== undefined && this.source !== 'explicit' && this.source !== 'manual';
  }

  /**
   * Runs one SDK call under the retry policy. On an auto-detected endpoint, a connection failure is not
   * retried against the dead endpoint: the cached detection is dropped, detection runs again once, and the
   * call is repeated on whatever endpoint it finds.
   */
  protected async run<T>(call: (sdk: OpenAI, signal: AbortSignal) => Promise<T>, opts: RequestOptions = {}): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? this.config.timeoutMs;
    const base = { signal: opts.signal, timeoutMs, retry: this.config.retry };
    try {
      return await withRetry((signal) => call(this.sdk, signal), { ...base, giveUpOn: this.redetectable ? isConnectionError : undefined });
    } catch (err) {
      if (!(this.redetectable && err instanceof APIError && isConnectionError(err))) throw err;
      const dead = this.config.baseUrl;
      invalidateDetection(this.purpose, this.detectOptions);
      const endpoint = await detectEndpoint(this.purpose, { ...this.detectOptions, force: true });
      logger.warn({ dead, now: endpoint.baseUrl, error: err.message }, 'endpoint stopped answering; re-detected');
      this.bind({ baseUrl: endpoint.baseUrl, modelName: endpoint.modelName, apiKey: endpoint.apiKey });
      this.attachDetection(endpoint, this.detectOptions as DetectOptions);
      return withRetry((signal) => call(this.sdk, signal), base);
    }
  }
}
