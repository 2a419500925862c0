import {
  clearDetectionCache,
  detectEndpoint,
  IntelligentLLMClient,
  IntelligentEmbeddingClient,
  NoEndpointError,
  loadSageEnv,
  ConfigError,
  DASHSCOPE_BASE_URL,
} from '../src';
import { deadPort, fakeOpenAI, startServer, useServers, type TestServer } from './helpers/servers';

const HOSTS = ['127.0.0.1'];
const track = useServers();
const serve = (...args: Parameters<typeof fakeOpenAI>): Promise<TestServer> => track(fakeOpenAI(...args));

beforeEach(() => clearDetectionCache());

describe('endpoint detection', () => {
  it('picks an OpenAI-compatible server on a passed-in port; its first model is the default', async () => {
    const dead = await deadPort();
    const engine = await serve({ models: [{ id: 'Qwen2.5-7B-Instruct', object: 'model' }, { id: 'other', object: 'model' }] });
    const found = await detectEndpoint('llm', { env: {}, hosts: HOSTS, llmPorts: [dead, engine.port], embeddingPorts: [] });
    expect(found).toMatchObject({ baseUrl: engine.url, modelName: 'Qwen2.5-7B-Instruct', source: 'local' });
    const cfg = await IntelligentLLMClient.detectConfig({ env: {}, hosts: HOSTS, llmPorts: [dead, engine.port], embeddingPorts: [] });
    expect(cfg).toEqual({ baseUrl: engine.url, modelName: 'Qwen2.5-7B-Instruct', apiKey: undefined, source: 'local' });
  });

  it('uses explicit configuration without probing the candidates', async () => {
    const probed = await serve({ name: 'probe' });
    const explicit = await serve({ name: 'explicit', models: [{ id: 'served-model', object: 'model' }] });
    const opts = { hosts: HOSTS, llmPorts: [probed.port], embeddingPorts: [] };

    const withModel = await IntelligentLLMClient.createAuto({ ...opts, env: { SAGE_CHAT_BASE_URL: explicit.url, SAGE_CHAT_MODEL: 'm1', SAGE_CHAT_API_KEY: 'k' } });
    expect([withModel.baseUrl, withModel.modelName, withModel.endpointSource]).toEqual([explicit.url, 'm1', 'explicit']);
    expect(await withModel.chat([{ role: 'user', content: 'hi' }])).toBe('reply from explicit');

    // Without a model the configured endpoint (only it) is asked which it serves; the base URL gains /v1.
    const root = explicit.url.replace(/\/v1$/, '');
    const cfg = await IntelligentLLMClient.detectConfig({ ...opts, env: { SAGE_UNIFIED_BASE_URL: root } });
    expect(cfg).toMatchObject({ baseUrl: explicit.url, modelName: 'served-model', source: 'explicit' });
    expect(probed.requests).toHaveLength(0);
  });

  it('never takes an embedding-only server for chat, nor a chat server for embeddings', async () => {
    const byName = await serve({ embeddingOnly: true, models: [{ id: 'BAAI/bge-m3', object: 'model' }] });
    const byMeta = await serve({ embeddingOnly: true, models: [{ id: 'house-model', object: 'model', sage_kind: 'embedding' }] });
    const byTei = await serve({ embeddingOnly: true, models: [{ id: 'house-model-2', object: 'model' }], info: { model_id: 'x', model_type: { embedding: { pooling: 'cls' } }, max_client_batch_size: 16 } });
    const chat = await serve({ name: 'chat', models: [{ id: 'llama-3-8b', object: 'model' }] });
    const ports = [byName.port, byMeta.port, byTei.port];

    const llm = await detectEndpoint('llm', { env: {}, hosts: HOSTS, llmPorts: [...ports, chat.port], embeddingPorts: [] });
    expect(llm.baseUrl).toBe(chat.url);

    const emb = await detectEndpoint('embedding', { env: {}, hosts: HOSTS, llmPorts: [chat.port], embeddingPorts: [byTei.port] });
    expect(emb).toMatchObject({ baseUrl: byTei.url, modelName: 'house-model-2', maxBatchSize: 16 });

    // A chat-only server is not taken for embeddings either, even on an embedding port.
    const noEmb = await detectEndpoint('embedding', { env: {}, hosts: HOSTS, llmPorts: [], embeddingPorts: [chat.port] }).catch((e: unknown) => e);
    expect(noEmb).toBeInstanceOf(NoEndpointError);
    expect((noEmb as Error).message).toContain(`${chat.url}: serves no embedding model (llama-3-8b: llm)`);

    // With only embedding servers around, LLM detection fails and says why for each.
    const err = await detectEndpoint('llm', { env: {}, hosts: HOSTS, llmPorts: ports, embeddingPorts: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoEndpointError);
    expect((err as Error).message).toContain(`${byName.url}: serves no LLM model (BAAI/bge-m3: embedding)`);
    expect((err as Error).message).toContain(`${byMeta.url}: serves no LLM model`);
    expect((err as Error).message).toContain(`${byTei.url}: serves no LLM model`);
  });

  it('prefers a sage control plane over a raw engine', async () => {
    const engine = await serve({ models: [{ id: 'raw', object: 'model' }] });
    const plane = await serve({ health: { status: 'ok', service: 'sage-control-plane' }, models: [{ id: 'bge-small', object: 'model', owned_by: 'sage-control-plane', sage_kind: 'embedding' }, { id: 'scheduled', object: 'model', owned_by: 'sage-control-plane', sage_kind: 'llm' }] });
    const env = { SAGE_UNIFIED_API_KEY: 'plane-key', SAGE_CHAT_API_KEY: 'cloud-key' };
    const llm = await detectEndpoint('llm', { env, hosts: HOSTS, llmPorts: [engine.port, plane.port], embeddingPorts: [] });
    expect(llm).toMatchObject({ baseUrl: plane.url, modelName: 'scheduled', source: 'control-plane', apiKey: 'plane-key' });
    const emb = await detectEndpoint('embedding', { env, hosts: HOSTS, llmPorts: [engine.port, plane.port], embeddingPorts: [] });
    expect(emb).toMatchObject({ baseUrl: plane.url, modelName: 'bge-small', source: 'control-plane' });
  });

  it('with nothing found and no key, the error names every candidate tried', async () => {
    const [a, b, c] = [await deadPort(), await deadPort(), await deadPort()];
    const err = await detectEndpoint('llm', { env: {}, hosts: ['127.0.0.1', 'localhost'], llmPorts: [a, b], embeddingPorts: [c] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoEndpointError);
    const e = err as NoEndpointError;
    for (const port of [a, b, c]) {
      for (const host of ['127.0.0.1', 'localhost']) expect(e.message).toContain(`http://${host}:${port}/v1`);
    }
    expect(e.candidates.filter((x) => x.url.startsWith('http://'))).toHaveLength(6);
    expect(e.message).toContain('SAGE_CHAT_API_KEY is not set');
  });

  it('a hanging server costs one probe timeout and is reported as timed out', async () => {
    const hang = await track(startServer(() => undefined)); // accepts, never answers
    const live = await serve({ name: 'live' });
    const started = Date.now();
    const found = await detectEndpoint('llm', { env: {}, hosts: HOSTS, llmPorts: [hang.port, live.port], embeddingPorts: [], probeTimeoutMs: 300 });
    expect(found.baseUrl).toBe(live.url);
    expect(Date.now() - started).toBeLessThan(3_000);
    const err = await detectEndpoint('llm', { env: {}, hosts: HOSTS, llmPorts: [hang.port], embeddingPorts: [], probeTimeoutMs: 300 }).catch((e: unknown) => e);
    expect((err as Error).message).toContain(`${hang.url}: timed out`);
  });

  it('falls back to DashScope with SAGE_CHAT_API_KEY and nothing local, without calling it', async () => {
    const dead = await deadPort();
    const started = Date.now();
    const llm = await detectEndpoint('llm', { env: { SAGE_CHAT_API_KEY: 'sk-test' }, hosts: HOSTS, llmPorts: [dead], embeddingPorts: [] });
    expect(llm).toEqual({ purpose: 'llm', baseUrl: DASHSCOPE_BASE_URL, modelName: 'qwen-max', apiKey: 'sk-test', source: 'dashscope', models: [] });
    const custom = await detectEndpoint('llm', { env: { SAGE_CHAT_API_KEY: 'sk-test', SAGE_CHAT_MODEL: 'qwen-turbo' }, hosts: HOSTS, llmPorts: [dead], embeddingPorts: [] });
    expect(custom.modelName).toBe('qwen-turbo');
    const emb = await detectEndpoint('embedding', { env: { SAGE_CHAT_API_KEY: 'sk-test' }, hosts: HOSTS, llmPorts: [], embeddingPorts: [dead] });
    expect(emb).toMatchObject({ baseUrl: DASHSCOPE_BASE_URL, modelName: 'text-embedding-v1' });
    // Only refused local connections were made: nothing waited on a remote host.
    expect(Date.now() - started).toBeLessThan(1_400);
  });

  it('caches per configuration, expires with the TTL', async () => {
    const engine = await serve();
    const opts = { env: {}, hosts: HOSTS, llmPorts: [engine.port], embeddingPorts: [] };
    await detectEndpoint('llm', opts);
    const after1 = engine.requests.length;
    await detectEndpoint('llm', opts);
    expect(engine.requests.length).toBe(after1); // served from cache
    await detectEndpoint('llm', { ...opts, env: { SAGE_CHAT_MODEL: 'test-model' } }); // other config, other key
    expect(engine.requests.length).toBeGreaterThan(after1);
    const after2 = engine.requests.length;
    await detectEndpoint('llm', { ...opts, ttlMs: 1, force: true }); // stored with a 1 ms lifetime
    const after3 = engine.requests.length;
    await new Promise((r) => setTimeout(r, 5));
    await detectEndpoint('llm', { ...opts, ttlMs: 1 });
    expect(after3).toBeGreaterThan(after2);
    expect(engine.requests.length).toBeGreaterThan(after3); // expired: probed again
  });

  it('re-detects once when a cached endpoint stops answering', async () => {
    const first = await fakeOpenAI({ name: 'first' });
    const second = await serve({ name: 'second' });
    const opts = { env: {}, hosts: HOSTS, llmPorts: [first.port, second.port], embeddingPorts: [] };
    const client = await IntelligentLLMClient.createAuto(opts);
    expect(await client.chat([{ role: 'user', content: 'hi' }])).toBe('reply from first');
    await first.close();
    expect(await client.chat([{ role: 'user', content: 'hi' }])).toBe('reply from second');
    expect(client.baseUrl).toBe(second.url);
    // The cache now holds the live endpoint too.
    expect((await detectEndpoint('llm', opts)).baseUrl).toBe(second.url);
  });

  it('an embedding client is created from detection with the advertised batch limit', async () => {
    const tei = await serve({ embeddingOnly: true, models: [{ id: 'bge-base-en', object: 'model', max_batch_size: 2 }] });
    const client = await IntelligentEmbeddingClient.createAuto({ env: {}, hosts: HOSTS, llmPorts: [], embeddingPorts: [tei.port] });
    expect(client.maxBatchSize).toBe(2);
    expect(await client.embed(['a', 'bb', 'ccc'])).toEqual([[1, 97], [2, 98], [3, 99]]);
    expect(tei.requests.filter((r) => r.path === '/v1/embeddings')).toHaveLength(2);
  });
});

describe('environment', () => {
  it('parses and names a malformed variable', () => {
    expect(loadSageEnv({ SAGE_CHAT_BASE_URL: ' http://h:1/v1 ', SAGE_CHAT_MODEL: '' })).toEqual({ chatBaseUrl: 'http://h:1/v1' });
    expect(() => loadSageEnv({ SAGE_EMBEDDING_BASE_URL: 'localhost:8090' })).toThrow(ConfigError);
    expect(() => loadSageEnv({ SAGE_EMBEDDING_BASE_URL: 'localhost:8090' })).toThrow(/SAGE_EMBEDDING_BASE_URL must be an http\(s\) URL/);
    expect(() => loadSageEnv({ SAGE_DETECTION_TTL_MS: 'soon' })).toThrow(/SAGE_DETECTION_TTL_MS must be a positive integer/);
  });
});
