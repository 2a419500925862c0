// Endpoint detection (F-101) with a per-process cache (F-102).
//
// Order: (1) explicit configuration — no probing of other servers; (2) concurrent probes of the local
// candidates, a sage control plane preferred over a raw engine, only endpoints serving the wanted kind;
// (3) DashScope, only when a key is set — chosen without calling it; otherwise NoEndpointError naming
// every candidate tried.
import { normalizeBaseUrl } from '../config/base-url';
import { loadSageEnv, type SageEnv } from '../config/env';
import { LLMError, NoEndpointError, type DetectionCandidate } from '../types/errors';
import { logger } from '../util/logger';
import { probeEndpoint, type ProbedModel, type ProbeResult } from './probe';

export type EndpointPurpose = 'llm' | 'embedding';
export type EndpointSource = 'explicit' | 'control-plane' | 'local' | 'dashscope';

export const DASHSCOPE_BASE_URL = 'https://dashscope.aliyuncs.com/compatible-mode/v1';
export const DASHSCOPE_CHAT_MODEL = 'qwen-max';
export const DASHSCOPE_EMBEDDING_MODEL = 'text-embedding-v1';
export const DEFAULT_HOSTS: readonly string[] = ['localhost', '127.0.0.1'];
export const DEFAULT_LLM_PORTS: readonly number[] = [8001, 8000];
export const DEFAULT_EMBEDDING_PORTS: readonly number[] = [8090, 8080];
export const DEFAULT_PROBE_TIMEOUT_MS = 1_500;
export const DEFAULT_DETECTION_TTL_MS = 5 * 60_000;

export interface DetectedEndpoint {
  purpose: EndpointPurpose;
  /** OpenAI base URL, ending in /v1 (or the provider's equivalent). */
  baseUrl: string;
  /** Model to use by default: the configured one, else the first model of the right kind the server lists. */
  modelName: string;
  apiKey?: string;
  source: EndpointSource;
  /** Models of the right kind the endpoint serves, when it was asked. */
  models: ProbedModel[];
  /** Server-advertised embedding batch limit, when known. */
  maxBatchSize?: number;
}

export interface DetectOptions {
  /** Environment to read (default process.env). */
  env?: NodeJS.ProcessEnv;
  hosts?: readonly string[];
  llmPorts?: readonly number[];
  embeddingPorts?: readonly number[];
  probeTimeoutMs?: number;
  /** Cache lifetime (default SAGE_DETECTION_TTL_MS or 5 minutes). */
  ttlMs?: number;
  /** Ignore (and replace) a cached result. */
  force?: boolean;
}

interface CacheEntry {
  expiresAt: number;
  endpoint: Promise<DetectedEndpoint>;
}

// Keyed by the configuration that produced the result, so different envs or candidate lists never collide.
const cache = new Map<string, CacheEntry>();

function cacheKey(purpose: EndpointPurpose, env: SageEnv, opts: DetectOptions): string {
  return JSON.stringify([purpose, env, opts.hosts ?? DEFAULT_HOSTS, opts.llmPorts ?? DEFAULT_LLM_PORTS, opts.embeddingPorts ?? DEFAULT_EMBEDDING_PORTS]);
}

/** Forget the cached endpoint for this purpose and configuration (e.g. after it stopped answering). */
export function invalidateDetection(purpose: EndpointPurpose, opts: DetectOptions = {}): void {
  cache.delete(cacheKey(purpose, loadSageEnv(opts.env), opts));
}

export function clearDetectionCache(): void {
  cache.clear();
}

/** Finds an endpoint for `purpose`, from the cache when a fresh result exists. */
export function detectEndpoint(purpose: EndpointPurpose, opts: DetectOptions = {}): Promise<DetectedEndpoint> {
  const env = loadSageEnv(opts.env);
  const key = cacheKey(purpose, env, opts);
  const hit = cache.get(key);
  if (hit && !opts.force && hit.expiresAt > Date.now()) return hit.endpoint;
  const ttl = opts.ttlMs ?? env.detectionTtlMs ?? DEFAULT_DETECTION_TTL_MS;
  // The promise itself is cached so that concurrent callers share one detection.
  const endpoint = runDetection(purpose, env, opts);
  const entry: CacheEntry = { expiresAt: Date.now() + ttl, endpoint };
  cache.set(key, entry);
  endpoint.catch(() => {
    if (cache.get(key) === entry) cache.delete(key); // failures are not cached
  });
  return endpoint;
}

function explicitConfig(purpose: EndpointPurpose, env: SageEnv): { baseUrl: string; apiKey?: string; model?: string; variable: string } | undefined {
  const model = purpose === 'llm' ? env.chatModel : env.embeddingModel;
  const own = purpose === 'llm' ? env.chatBaseUrl : env.embeddingBaseUrl;
  const ownKey = purpose === 'llm' ? env.chatApiKey : env.embeddingApiKey;
  if (own) return { baseUrl: own, apiKey: ownKey ?? env.unifiedApiKey, model, variable: purpose === 'llm' ? 'SAGE_CHAT_BASE_URL' : 'SAGE_EMBEDDING_BASE_URL' };
  if (env.unifiedBaseUrl) return { baseUrl: env.unifiedBaseUrl, apiKey: env.unifiedApiKey ?? ownKey, model, variable: 'SAGE_UNIFIED_BASE_URL' };
  if (env.openaiBaseUrl) return { baseUrl: env.openaiBaseUrl, apiKey: env.openaiApiKey, model, variable: 'OPENAI_BASE_URL' };
  return undefined;
}

function pickModel(models: ProbedModel[], purpose: EndpointPurpose, preferred?: string): ProbedModel | undefined {
  const fitting = models.filter((m) => m.kind === purpose);
  return fitting.find((m) => m.id === preferred) ?? fitting[0];
}

async function runDetection(purpose: EndpointPurpose, env: SageEnv, opts: DetectOptions): Promise<DetectedEndpoint> {
  const timeoutMs = opts.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const explicit = explicitConfig(purpose, env);
  if (explicit) {
    const baseUrl = normalizeBaseUrl(explicit.baseUrl);
    if (explicit.model) return { purpose, baseUrl, modelName: explicit.model, apiKey: explicit.apiKey, source: 'explicit', models: [] };
    // No model configured: ask the configured endpoint (only that one) which models it serves.
    const probe = await probeEndpoint(baseUrl, { timeoutMs: Math.max(timeoutMs, 5_000), apiKey: explicit.apiKey });
    const model = pickModel(probe.models, purpose);
    if (!model) {
      const why = probe.ok ? `it lists no ${purpose === 'llm' ? 'LLM' : 'embedding'} model` : probe.error;
      const modelVar = purpose === 'llm' ? 'SAGE_CHAT_MODEL' : 'SAGE_EMBEDDING_MODEL';
      throw new LLMError(`${explicit.variable}=${baseUrl} is set but ${modelVar} is not, and the model could not be discovered: ${why}`);
    }
    return { purpose, baseUrl, modelName: model.id, apiKey: explicit.apiKey, source: 'explicit', models: probe.models.filter((m) => m.kind === purpose), maxBatchSize: model.maxBatchSize };
  }

  const hosts = opts.hosts ?? DEFAULT_HOSTS;
  const llmPorts = opts.llmPorts ?? DEFAULT_LLM_PORTS;
  const embeddingPorts = opts.embeddingPorts ?? DEFAULT_EMBEDDING_PORTS;
  // Ports of the wanted kind first; the others too, because a control plane serving both kinds may sit there.
  const ports = [...new Set(purpose === 'llm' ? [...llmPorts, ...embeddingPorts] : [...embeddingPorts, ...llmPorts])];
  const urls = ports.flatMap((port) => hosts.map((host) => `http://${host.includes(':') ? `[${host}]` : host}:${port}/v1`));
  const results: ProbeResult[] = await Promise.all(urls.map((url) => probeEndpoint(url, { timeoutMs, apiKey: env.unifiedApiKey })));

  const preferred = purpose === 'llm' ? env.chatModel : env.embeddingModel;
  const eligible = results.filter((r) => r.ok && pickModel(r.models, purpose, preferred));
  const chosen = eligible.find((r) => r.controlPlane) ?? eligible[0];
  if (chosen) {
    const model = pickModel(chosen.models, purpose, preferred) as ProbedModel;
    const endpoint: DetectedEndpoint = {
      purpose,
      baseUrl: chosen.baseUrl,
      modelName: model.id,
      apiKey: chosen.controlPlane ? env.unifiedApiKey : undefined,
      source: chosen.controlPlane ? 'control-plane' : 'local',
      models: chosen.models.filter((m) => m.kind === purpose),
      maxBatchSize: model.maxBatchSize,
    };
    logger.info({ purpose, baseUrl: endpoint.baseUrl, model: endpoint.modelName, source: endpoint.source }, 'endpoint detected');
    return endpoint;
  }

  const key = purpose === 'llm' ? env.chatApiKey : (env.embeddingApiKey ?? env.chatApiKey);
  if (key) {
    const modelName = (purpose === 'llm' ? env.chatModel : env.embeddingModel) ?? (purpose === 'llm' ? DASHSCOPE_CHAT_MODEL : DASHSCOPE_EMBEDDING_MODEL);
    logger.info({ purpose, baseUrl: DASHSCOPE_BASE_URL, model: modelName }, 'no local endpoint; using the DashScope fallback');
    return { purpose, baseUrl: DASHSCOPE_BASE_URL, modelName, apiKey: key, source: 'dashscope', models: [] };
  }

  const candidates: DetectionCandidate[] = results.map((r) => ({
    url: r.baseUrl,
    purpose,
    outcome: r.ok
      ? `serves no ${purpose === 'llm' ? 'LLM' : 'embedding'} model (${r.models.map((m) => `${m.id}: ${m.kind}`).join(', ') || 'empty model list'})`
      : (r.error ?? 'unreachable'),
  }));
  candidates.push({ url: DASHSCOPE_BASE_URL, purpose, outcome: `skipped: ${purpose === 'llm' ? 'SAGE_CHAT_API_KEY' : 'SAGE_EMBEDDING_API_KEY / SAGE_CHAT_API_KEY'} is not set` });
  throw new NoEndpointError(purpose, candidates);
}
