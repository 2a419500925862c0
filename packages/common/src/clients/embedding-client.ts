// IntelligentEmbeddingClient (F-105): embeddings through the official SDK, with client-side splitting of
// large inputs into batches no larger than the server accepts, reassembled in input order.
import { detectEndpoint, type DetectOptions } from '../detection/detect';
import { APIError, LLMError } from '../types/errors';
import { EndpointClient, type AutoClientOptions, type EndpointClientConfig, type RequestOptions } from './endpoint-client';
import type { DetectedConfig } from './llm-client';

export const DEFAULT_EMBEDDING_BATCH_SIZE = 32;

export interface EmbeddingClientConfig extends EndpointClientConfig {
  /** Most texts per request (default: what the server advertises, else 32). */
  maxBatchSize?: number;
  /** Batches in flight at once (default 4). */
  concurrency?: number;
}

export interface EmbedOptions extends RequestOptions {
  model?: string;
  dimensions?: number;
}

export class IntelligentEmbeddingClient extends EndpointClient {
  readonly maxBatchSize: number;
  private readonly concurrency: number;

  constructor(config: EmbeddingClientConfig) {
    super('embedding', config);
    this.maxBatchSize = Math.max(1, Math.floor(config.maxBatchSize ?? DEFAULT_EMBEDDING_BATCH_SIZE));
    this.concurrency = Math.max(1, config.concurrency ?? 4);
  }

  static async createAuto(options: AutoClientOptions & { maxBatchSize?: number; concurrency?: number } = {}): Promise<IntelligentEmbeddingClient> {
    const { timeoutMs, retry, maxBatchSize, concurrency, ...detect } = options;
    const endpoint = await detectEndpoint('embedding', detect);
    const client = new IntelligentEmbeddingClient({
      baseUrl: endpoint.baseUrl,
      modelName: endpoint.modelName,
      apiKey: endpoint.apiKey,
      timeoutMs,
      retry,
      maxBatchSize: maxBatchSize ?? endpoint.maxBatchSize,
      concurrency,
    });
    client.attachDetection(endpoint, detect);
    return client;
  }

  static async detectConfig(options: DetectOptions = {}): Promise<DetectedConfig> {
    const e = await detectEndpoint('embedding', options);
    return { baseUrl: e.baseUrl, modelName: e.modelName, apiKey: e.apiKey, source: e.source };
  }

  /** One vector per text, in the order of `texts`. */
  async embed(texts: readonly string[], opts: EmbedOptions = {}): Promise<number[][]> {
    if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) throw new LLMError('embed() takes an array of strings');
    if (texts.length === 0) return [];
    const batches: string[][] = [];
    for (let i = 0; i < texts.length; i += this.maxBatchSize) batches.push(texts.slice(i, i + this.maxBatchSize));
    const results: number[][][] = new Array(batches.length);
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const i = next++;
        results[i] = await this.embedBatch(batches[i] as string[], opts);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, batches.length) }, worker));
    return results.flat();
  }

  async embedOne(text: string, opts: EmbedOptions = {}): Promise<number[]> {
    const [vector] = await this.embed([text], opts);
    return vector as number[];
  }

  private async embedBatch(batch: string[], opts: EmbedOptions): Promise<number[][]> {
    const res = await this.run(
      (sdk, signal) =>
        sdk.embeddings.create(
          { model: opts.model ?? this.modelName, input: batch, encoding_format: 'float', ...(opts.dimensions !== undefined && { dimensions: opts.dimensions }) },
          { signal, maxRetries: 0 },
        ),
      opts,
    );
    const data = [...(res.data ?? [])].sort((a, b) => a.index - b.index);
    if (data.length !== batch.length) {
      throw new APIError(`the server returned ${data.length} embeddings for ${batch.length} inputs`, { code: 'bad_response', retryable: false });
    }
    return data.map((d) => d.embedding);
  }
}
