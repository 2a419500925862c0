// The gateway's model clients, obtained lazily on first use (F-505): through the L1 clients' createAuto()
// — which find a control plane on 8000, honour SAGE_CHAT_BASE_URL & co., or fall back to DashScope — or
// from explicit configuration, which is passed to the same createAuto() as environment so that the L1
// client still discovers a model the configuration leaves out. No detection logic lives here.
import { IntelligentEmbeddingClient, IntelligentLLMClient, type AutoClientOptions } from '@sage/common';
import { classifyEmbedder, transientFailure, unknownEmbedder, type EmbedderProfile } from './rag/fusion-defaults';

export interface EndpointSettings {
  /** OpenAI base URL (a bare host:port gets /v1). */
  baseUrl?: string;
  /** Model id; discovered from the endpoint when omitted. */
  model?: string;
  apiKey?: string;
}

export interface ClientSettings {
  llm?: EndpointSettings | IntelligentLLMClient;
  embedding?: EndpointSettings | IntelligentEmbeddingClient;
  /** Passed to createAuto() (candidate hosts/ports, probe timeout, env, timeouts, retry). */
  detect?: AutoClientOptions;
  /** Largest number of texts per embedding request (default: what the server advertises, else 32). */
  embeddingBatchSize?: number;
}

/** Reading the model list waits this long at most (retrieval waits for it the first time). */
const PROFILE_TIMEOUT_MS = 5000;

function overlay(base: NodeJS.ProcessEnv, vars: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env = { ...base };
  for (const [k, v] of Object.entries(vars)) if (v !== undefined) env[k] = v;
  return env;
}

/** One client, created on first use; a failed creation is not remembered, so the next call tries again. */
class Lazy<T> {
  private pending: Promise<T> | undefined;
  constructor(private readonly create: () => Promise<T>) {}
  get(): Promise<T> {
    if (!this.pending) {
      this.pending = this.create();
      this.pending.catch(() => {
        this.pending = undefined;
      });
    }
    return this.pending;
  }
  /** The client, if it was created already. */
  async peek(): Promise<T | undefined> {
    if (!this.pending) return undefined;
    return this.pending.catch(() => undefined);
  }
}

export class GatewayClients {
  private readonly llm: Lazy<IntelligentLLMClient>;
  private readonly embedding: Lazy<IntelligentEmbeddingClient>;

  constructor(settings: ClientSettings = {}) {
    const detect = settings.detect ?? {};
    const baseEnv = detect.env ?? process.env;
    const llm = settings.llm;
    const emb = settings.embedding;
    this.llm = new Lazy(async () => {
      if (llm instanceof IntelligentLLMClient) return llm;
      const env = overlay(baseEnv, { SAGE_CHAT_BASE_URL: llm?.baseUrl, SAGE_CHAT_MODEL: llm?.model, SAGE_CHAT_API_KEY: llm?.apiKey });
      return IntelligentLLMClient.createAuto({ ...detect, env });
    });
    this.embedding = new Lazy(async () => {
      if (emb instanceof IntelligentEmbeddingClient) return emb;
      const env = overlay(baseEnv, { SAGE_EMBEDDING_BASE_URL: emb?.baseUrl, SAGE_EMBEDDING_MODEL: emb?.model, SAGE_EMBEDDING_API_KEY: emb?.apiKey });
      return IntelligentEmbeddingClient.createAuto({ ...detect, env, maxBatchSize: settings.embeddingBatchSize });
    });
  }

  getLLM(): Promise<IntelligentLLMClient> {
    return this.llm.get();
  }

  getEmbedding(): Promise<IntelligentEmbeddingClient> {
    return this.embedding.get();
  }

  private profile: { key: string; value: Promise<EmbedderProfile> } | undefined;

  /**
   * What kind of embedder the embedding client reaches (from its endpoint's /v1/models), read once per endpoint
   * and model; a failure that may pass (connection, timeout, 5xx) is asked again on the next call.
   */
  async embeddingProfile(): Promise<EmbedderProfile> {
    const client = await this.embedding.get();
    const key = `${client.baseUrl} ${client.modelName}`;
    if (this.profile?.key !== key) {
      const model = client.modelName;
      const entry = {
        key,
        value: client.models({ timeoutMs: PROFILE_TIMEOUT_MS }).then(
          (models) => classifyEmbedder(model, models),
          (err: unknown) => {
            if (transientFailure(err) && this.profile === entry) this.profile = undefined;
            return unknownEmbedder(model, err);
          },
        ),
      };
      this.profile = entry;
    }
    return this.profile.value;
  }

  /** The embedder's profile, if it was read already (nothing is created or fetched). */
  async peekEmbeddingProfile(): Promise<EmbedderProfile | undefined> {
    return this.profile?.value;
  }

  /** What is known without creating anything: the endpoints of clients already created. */
  async describe(): Promise<{ llm: { baseUrl: string; model: string } | null; embedding: { baseUrl: string; model: string } | null }> {
    const [l, e] = await Promise.all([this.llm.peek(), this.embedding.peek()]);
    return {
      llm: l ? { baseUrl: l.baseUrl, model: l.modelName } : null,
      embedding: e ? { baseUrl: e.baseUrl, model: e.modelName } : null,
    };
  }
}
