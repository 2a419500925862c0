// Probing one base URL: what it serves, and whether it is a sage control plane.
//
// What a sage control plane advertises (the contract @sage/llm-core implements):
//   GET /health  → JSON with `"service": "sage-control-plane"`, and/or
//   GET /v1/models → models with `owned_by: "sage-control-plane"`.
// Model kind, decided per model:
//   1. `sage_kind: "llm" | "embedding"` in the model entry (control plane and sage engines set it);
//   2. otherwise the id's name: embedding families (bge, e5, gte, *embed*, MiniLM, mpnet, ...) → embedding;
//   3. otherwise, if the server answers a TEI-style `GET /info` with an embedding `model_type` → embedding;
//   4. otherwise → llm (an OpenAI-compatible server with a chat model and no metadata, e.g. plain vLLM).
// An endpoint serves a purpose when at least one of its models has that kind.
import { serverRootUrl } from '../config/base-url';
import { ModelListSchema, type Model, type ModelKind } from '../types/openai';

export const SAGE_CONTROL_PLANE_SERVICE = 'sage-control-plane';

const EMBEDDING_NAME = /(embed|^bge|[/-]bge|(^|[/-])e5-|(^|[/-])gte-|minilm|mpnet|sentence-transformers|text2vec|m3e|jina-emb|nomic-emb)/i;

export function looksLikeEmbeddingModel(id: string): boolean {
  return EMBEDDING_NAME.test(id);
}

export interface ProbedModel {
  id: string;
  kind: ModelKind;
  /** Largest batch the server accepts for this model, when it says so. */
  maxBatchSize?: number;
}

export interface ProbeResult {
  baseUrl: string;
  ok: boolean;
  /** Why the probe failed (connection refused, timeout, HTTP status, not an OpenAI model list). */
  error?: string;
  controlPlane: boolean;
  models: ProbedModel[];
}

async function getJson(url: string, signal: AbortSignal, headers: Record<string, string>): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { signal, headers: { accept: 'application/json', ...headers } });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body };
}

function reason(err: unknown): string {
  // DOMException (the abort reason) is not always an Error instance across realms: match by name.
  const name = (err as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return 'timed out';
  let c: unknown = err;
  while (c instanceof Error && c.cause instanceof Error) c = c.cause;
  const code = (c as { code?: unknown }).code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  return c instanceof Error ? c.message : String(c);
}

function batchLimit(m: Model): number | undefined {
  const v = m.sage_max_batch_size ?? m.max_batch_size;
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
}

/**
 * Probes `{baseUrl}/models` (baseUrl ends in /v1) and `/health` concurrently, within `timeoutMs`.
 * Never throws: a failure is reported in the result.
 */
export async function probeEndpoint(baseUrl: string, opts: { timeoutMs: number; apiKey?: string }): Promise<ProbeResult> {
  const signal = AbortSignal.timeout(opts.timeoutMs);
  const headers: Record<string, string> = opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {};
  const root = serverRootUrl(baseUrl);
  const healthP = getJson(`${root}/health`, signal, headers).catch(() => undefined);
  let list;
  try {
    const res = await getJson(`${baseUrl}/models`, signal, headers);
    if (res.status !== 200) return { baseUrl, ok: false, error: `GET /v1/models answered HTTP ${res.status}`, controlPlane: false, models: [] };
    const parsed = ModelListSchema.safeParse(res.body);
    if (!parsed.success) return { baseUrl, ok: false, error: 'GET /v1/models did not return an OpenAI model list', controlPlane: false, models: [] };
    list = parsed.data;
  } catch (err) {
    return { baseUrl, ok: false, error: reason(err), controlPlane: false, models: [] };
  }
  const health = await healthP;
  const healthBody = health?.body as { service?: unknown } | undefined;
  const controlPlane =
    healthBody?.service === SAGE_CONTROL_PLANE_SERVICE || list.data.some((m) => m.owned_by === SAGE_CONTROL_PLANE_SERVICE);

  const models: ProbedModel[] = list.data.map((m) => ({
    id: m.id,
    kind: m.sage_kind ?? (looksLikeEmbeddingModel(m.id) ? 'embedding' : 'llm'),
    ...(batchLimit(m) ? { maxBatchSize: batchLimit(m) } : {}),
  }));

  // Rule 3: models without metadata whose names say nothing — ask /info (TEI) before calling them LLMs.
  const undecided = list.data.some((m) => m.sage_kind === undefined && !looksLikeEmbeddingModel(m.id));
  if (undecided && !signal.aborted) {
    const info = await getJson(`${root}/info`, signal, headers).catch(() => undefined);
    const body = info?.status === 200 ? (info.body as { model_type?: unknown; max_client_batch_size?: unknown } | undefined) : undefined;
    const type = body?.model_type;
    const teiEmbedding = typeof type === 'object' && type !== null && ('embedding' in type || 'reranker' in type || 'classifier' in type);
    if (teiEmbedding) {
      const max = typeof body?.max_client_batch_size === 'number' ? body.max_client_batch_size : undefined;
      list.data.forEach((m, i) => {
        const model = models[i];
        if (model && m.sage_kind === undefined) {
          model.kind = 'embedding';
          if (max && !model.maxBatchSize) model.maxBatchSize = max;
        }
      });
    }
  }
  return { baseUrl, ok: true, controlPlane, models };
}
