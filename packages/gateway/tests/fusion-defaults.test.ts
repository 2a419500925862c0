// Hybrid retrieval's fusion defaults follow the embedder: the gateway reads what the embedding endpoint's
// /v1/models says about the model (a sage engine names itself, a sage control plane names the engines behind each
// model) and fuses full-text-leaning for a lexical embedder, equally for anything else; the request and the
// gateway's configuration override each setting. Against real control planes serving sim-embedding, once as an
// engine of their own (lexical) and once as an external backend they know nothing about (taken for semantic).
import { APIError, type Model } from '@sage/common';
import { startControlPlaneServer, type RunningControlPlane } from '@sage/llm-core';
import { createGateway, FUSION_DEFAULTS, type EmbedderProfile, type LanceDBVectorStore, type Gateway } from '../src';
import { Retriever } from '../src/rag/retriever';
import { classifyEmbedder, transientFailure, unknownEmbedder } from '../src/rag/fusion-defaults';
import { removeTemps, startControlPlane, tempDir, type ControlPlane } from './helpers';
import { openStore } from './store-fixture';

const entry = (id: string, extra: Record<string, unknown> = {}): Model => ({ id, object: 'model', ...extra });

describe('classifyEmbedder', () => {
  test('lexical when the entry names sim-embedding as its engine (the engine itself, or a control plane in front of it)', () => {
    const direct = classifyEmbedder('emb', [entry('emb', { owned_by: 'sage-sim', engine: 'sim-embedding', simulated: true })]);
    expect(direct).toMatchObject({ model: 'emb', family: 'lexical' });
    expect(direct.reason).toContain('sim-embedding');
    expect(classifyEmbedder('emb', [entry('llm', { sage_engines: ['sim-llm'] }), entry('emb', { sage_engines: ['sim-embedding'] })]).family).toBe('lexical');
  });

  test('semantic for any other engine, engines of mixed kinds, no engine named, or a model not listed', () => {
    expect(classifyEmbedder('bge', [entry('bge', { sage_engines: ['tei'] })])).toMatchObject({ family: 'semantic', reason: expect.stringContaining('served by tei') });
    expect(classifyEmbedder('bge', [entry('bge', { sage_engines: ['sim-embedding', 'tei'] })]).family).toBe('semantic');
    expect(classifyEmbedder('bge', [entry('bge', { sage_engines: [] })])).toMatchObject({ family: 'semantic', reason: expect.stringContaining('no engine named') });
    expect(classifyEmbedder('bge', [entry('bge', { sage_engines: 'sim-embedding' })]).family).toBe('semantic'); // not the documented shape
    expect(classifyEmbedder('bge', [entry('other', { engine: 'sim-embedding' })])).toMatchObject({ family: 'semantic', reason: expect.stringContaining('not in') });
  });
});

describe('a model list that cannot be read', () => {
  test('is taken for a semantic embedder, and asked for again only when the failure may pass', () => {
    expect(unknownEmbedder('emb', new Error('connection refused'))).toMatchObject({ family: 'semantic', reason: expect.stringContaining('connection refused') });
    expect(transientFailure(new APIError('not found', { status: 404, retryable: false }))).toBe(false);
    expect(transientFailure(new APIError('bad gateway', { status: 502, retryable: true }))).toBe(true);
    expect(transientFailure(new APIError('timed out', { code: 'timeout', retryable: false }))).toBe(true);
  });
});

describe('Retriever.settings: request over configuration over the embedder’s defaults', () => {
  let store: LanceDBVectorStore;
  const embedder = async () => ({ embed: async (texts: readonly string[]) => texts.map(() => [1, 0, 0]) });
  beforeAll(async () => {
    store = await openStore();
  });
  afterAll(() => store.close());

  const profile = (family: EmbedderProfile['family']) => {
    const calls = { n: 0 };
    const fn = async (): Promise<EmbedderProfile> => {
      calls.n++;
      return { model: 'emb', family, reason: `${family} for the test` };
    };
    return { fn, calls };
  };

  test('each setting left unset takes the embedder family’s default', async () => {
    const lexical = profile('lexical');
    const r = new Retriever(store, embedder, {}, lexical.fn);
    expect(await r.settings()).toEqual({ mode: 'hybrid', fusion: FUSION_DEFAULTS.lexical, embedder: { model: 'emb', family: 'lexical', reason: 'lexical for the test' } });
    expect(FUSION_DEFAULTS.lexical).toEqual({ vectorWeight: 1, fulltextWeight: 2, rrfK: 10 });
    expect((await r.settings({ rrfK: 60 })).fusion).toEqual({ vectorWeight: 1, fulltextWeight: 2, rrfK: 60 });
    const semantic = new Retriever(store, embedder, {}, profile('semantic').fn);
    expect((await semantic.settings()).fusion).toEqual({ vectorWeight: 1, fulltextWeight: 1, rrfK: 60 });
    // A retriever told nothing about its embedder uses the semantic defaults.
    expect(await new Retriever(store, embedder).settings()).toMatchObject({ fusion: FUSION_DEFAULTS.semantic, embedder: { family: 'semantic' } });
  });

  test('configuration overrides the family, the request overrides both; the embedder is not asked when all is set', async () => {
    const lexical = profile('lexical');
    const r = new Retriever(store, embedder, { fulltextWeight: 1 }, lexical.fn);
    expect((await r.settings()).fusion).toEqual({ vectorWeight: 1, fulltextWeight: 1, rrfK: 10 });
    expect((await r.settings({ fulltextWeight: 3, vectorWeight: 0.5 })).fusion).toEqual({ vectorWeight: 0.5, fulltextWeight: 3, rrfK: 10 });
    const asked = lexical.calls.n;
    expect(await r.settings({ vectorWeight: 1, rrfK: 20 })).toEqual({ mode: 'hybrid', fusion: { vectorWeight: 1, fulltextWeight: 1, rrfK: 20 } });
    expect(lexical.calls.n).toBe(asked);
    expect(await r.settings({ mode: 'vector' })).toEqual({ mode: 'vector' });
    expect(await r.settings({ mode: 'fulltext' })).toEqual({ mode: 'fulltext' });
    expect(lexical.calls.n).toBe(asked);
  });

  test('a weight of 0 from the configuration and another from the request is a 400, not a silent empty fusion', async () => {
    const r = new Retriever(store, embedder, { vectorWeight: 0 }, profile('lexical').fn);
    expect((await r.settings()).fusion).toMatchObject({ vectorWeight: 0, fulltextWeight: 2 });
    await expect(r.search('anything', { fulltextWeight: 0 })).rejects.toMatchObject({ status: 400, code: 'invalid_value', param: 'vector_weight' });
  });
});

describe('the gateway learns the embedder from the endpoint it uses', () => {
  let cp: ControlPlane;
  let external: RunningControlPlane | undefined;
  const gateways: Gateway[] = [];

  beforeAll(async () => {
    cp = await startControlPlane();
  }, 60_000);
  afterAll(async () => {
    for (const gw of gateways) await gw.close();
    await external?.close(2000);
    await cp?.stop();
    removeTemps();
  });

  async function gateway(embeddingBaseUrl: string, retrieval = {}): Promise<string> {
    const gw = await createGateway({ dataDir: tempDir(), llm: { baseUrl: cp.url }, embedding: { baseUrl: embeddingBaseUrl }, retrieval });
    gateways.push(gw);
    const { url } = await gw.listen({ port: 0 });
    const ingest = await post(`${url}/v1/rag/ingest`, { documents: [{ id: 'ferry', text: 'The ferry Tansy was built by Kessler Yards in 1998.\n\nIts radar is a Simrad R2009.' }] });
    expect(ingest.status).toBe(200);
    return url;
  }

  async function post(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  const engineUrl = () => {
    const engine = cp.cp.runtime.engines.listEngines().find((e) => e.kind === 'sim-embedding');
    if (!engine) throw new Error('the control plane runs no sim-embedding engine');
    return engine.baseUrl;
  };

  test('through a control plane running sim-embedding: lexical, full text 2:1 at k 10, said in /v1/rag/query and /health', async () => {
    const url = await gateway(cp.url);
    const before = (await (await fetch(`${url}/health`)).json()) as { embedder: unknown };
    expect(before.embedder).toBeNull(); // no hybrid query yet

    const { status, json } = await post(`${url}/v1/rag/query`, { query: 'Who built the Tansy?' });
    expect(status).toBe(200);
    expect(json.retrieval).toEqual({
      mode: 'hybrid',
      vector_weight: 1,
      fulltext_weight: 2,
      rrf_k: 10,
      embedder: { model: 'sage-sim-embedding', family: 'lexical', reason: expect.stringContaining('served by sim-embedding') },
    });
    expect((json.data as { text: string }[])[0]?.text).toContain('Kessler Yards');
    const after = (await (await fetch(`${url}/health`)).json()) as { embedder: unknown };
    expect(after.embedder).toMatchObject({ model: 'sage-sim-embedding', family: 'lexical' });

    // The request overrides one setting; the others stay the embedder's.
    const k60 = await post(`${url}/v1/rag/query`, { query: 'Who built the Tansy?', rrf_k: 60 });
    expect(k60.json.retrieval).toMatchObject({ vector_weight: 1, fulltext_weight: 2, rrf_k: 60 });
    const vector = await post(`${url}/v1/rag/query`, { query: 'radar', mode: 'vector' });
    expect(vector.json.retrieval).toEqual({ mode: 'vector', vector_weight: null, fulltext_weight: null, rrf_k: null, embedder: null });
  });

  test('straight to the sim-embedding engine: lexical too (the engine names itself); configuration overrides per setting', async () => {
    const url = await gateway(engineUrl(), { vectorWeight: 2 });
    const { json } = await post(`${url}/v1/rag/query`, { query: 'Which radar does the Tansy have?' });
    expect(json.retrieval).toMatchObject({ vector_weight: 2, fulltext_weight: 2, rrf_k: 10, embedder: { family: 'lexical' } });
    expect((json.data as { text: string }[])[0]?.text).toContain('Simrad R2009');
  });

  test('an embedding server the control plane only knows as an external backend is taken for semantic: 1:1, k 60', async () => {
    const sageHome = tempDir('sage-cp-ext-');
    external = await startControlPlaneServer({ port: 0, auth: { apiKeys: [] }, embeddingBackends: [engineUrl()], runtime: { sageHome } });
    expect(external.runtime.engines.listEngines()).toEqual([]);
    const url = await gateway(external.url);
    const { status, json } = await post(`${url}/v1/rag/query`, { query: 'Who built the Tansy?' });
    expect(status).toBe(200);
    expect(json.retrieval).toEqual({
      mode: 'hybrid',
      vector_weight: 1,
      fulltext_weight: 1,
      rrf_k: 60,
      embedder: { model: 'sage-sim-embedding', family: 'semantic', reason: expect.stringContaining('no engine named') },
    });
  });
});
