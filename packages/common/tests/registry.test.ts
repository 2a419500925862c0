import {
  AllModelsFailedError,
  DeepSeekProvider,
  getManager,
  LLMAggregator,
  LLMAggrator,
  ModelClient,
  ModelNotFoundError,
  OpenAIProvider,
  Provider,
  ProviderManager,
  ProviderNotFoundError,
  resetManager,
  clearDetectionCache,
  type ChatCompletionChunk,
} from '../src';
import { deadPort, fakeOpenAI, startServer, json, chatCompletion, useServers } from './helpers/servers';

const track = useServers();
afterAll(async () => {
  await resetManager();
});

const hello = [{ role: 'user' as const, content: 'hello' }];

describe('ModelClient', () => {
  it('honours maxConcurrentCalls: the server never sees more at once', async () => {
    const s = await track(fakeOpenAI({ delayMs: 150 }));
    const client = new ModelClient({ name: 'm', baseUrl: s.url, maxConcurrentCalls: 2 });
    const replies = await Promise.all(Array.from({ length: 6 }, () => client.chatCompletion({ messages: hello })));
    expect(replies.map((r) => r.choices[0]?.message.content)).toEqual(Array(6).fill('reply from server'));
    expect(s.requests).toHaveLength(6);
    expect(s.maxConcurrent).toBe(2);
    expect(client.inFlight).toBe(0);
  });

  it('streams validated chunks and sends the configured upstream model', async () => {
    const s = await track(fakeOpenAI({ name: 'streamer' }));
    const client = new ModelClient({ name: 'alias', model: 'upstream-id', baseUrl: s.url });
    const chunks: ChatCompletionChunk[] = [];
    for await (const c of client.chatCompletionStream({ messages: hello })) chunks.push(c);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('reply from streamer');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect((s.requests[0]?.body as { model: string }).model).toBe('upstream-id');
    expect(client.inFlight).toBe(0);
  });

  it('retries per its maxRetries and rejects bad requests locally', async () => {
    const s = await track(startServer((_req, res, n) => (n === 1 ? json(res, 502, { error: { message: 'bad gateway', type: 'server_error', param: null, code: null } }) : json(res, 200, chatCompletion('second time')))));
    const client = new ModelClient({ name: 'm', baseUrl: s.url, maxRetries: 1 });
    expect((await client.chatCompletion({ messages: hello })).choices[0]?.message.content).toBe('second time');
    await expect(client.chatCompletion({ messages: hello, max_tokens: -5 })).rejects.toThrow(/max_tokens/);
    expect(s.requests).toHaveLength(2);
  });
});

describe('Provider and ProviderManager', () => {
  it('registers providers, looks models up, reports availability, and closes', async () => {
    const live = await track(fakeOpenAI({ name: 'vllm' }));
    const manager = getManager();
    expect(manager).toBeInstanceOf(ProviderManager);
    expect(getManager()).toBe(manager);
    const local = Provider.createSimple({ name: 'local-vllm', modelName: 'test-model', baseUrl: live.url, maxConcurrentCalls: 4 });
    expect(await local.initializeAllModels()).toEqual({ 'test-model': true });
    expect(local.isModelAvailable('test-model')).toBe(true);
    manager.registerProvider(local);

    const openai = OpenAIProvider.createSimple({ apiKey: 'sk-x', modelName: 'gpt-4o-mini' });
    expect([openai.name, openai.baseUrl]).toEqual(['openai', 'https://api.openai.com/v1']);
    expect(new DeepSeekProvider().baseUrl).toBe('https://api.deepseek.com/v1');
    manager.registerProvider(openai);

    const client = manager.getLlmClient('local-vllm', 'test-model');
    expect(client).toBe(manager.findModel('test-model')?.client); // one client per model: connections are reused
    const res = await client.chatCompletion({ model: 'test-model', messages: [{ role: 'system', content: 'be nice' }, ...hello] });
    expect(res.choices[0]?.message.content).toBe('reply from vllm');

    expect(() => manager.getLlmClient('nope', 'x')).toThrow(ProviderNotFoundError);
    expect(() => manager.getLlmClient('local-vllm', 'x')).toThrow(ModelNotFoundError);
    expect(() => manager.registerProvider(Provider.createSimple({ name: 'local-vllm', modelName: 'y', baseUrl: live.url }))).toThrow(/already registered/);
    expect(() => Provider.createSimple({ modelName: 'm' })).toThrow(/needs a baseUrl/);

    const dead = Provider.createSimple({ name: 'dead', modelName: 'ghost', baseUrl: `http://127.0.0.1:${await deadPort()}/v1` });
    manager.registerProvider(dead);
    await manager.unregisterProvider('openai'); // tests never call the real service
    expect(await manager.healthCheck(1_000)).toEqual({ 'local-vllm': { 'test-model': true }, dead: { ghost: false } });
    await manager.closeAll();
    expect(manager.listProviders()).toEqual([]);
    await expect(client.chatCompletion({ messages: hello })).rejects.toThrow(/closed/);
  });
});

describe('LLMAggregator', () => {
  it('fails over from a dead endpoint to a live one and reports which failed and why', async () => {
    const live = await track(fakeOpenAI({ name: 'backup' }));
    const deadUrl = `http://127.0.0.1:${await deadPort()}/v1`;
    const agg = new LLMAggregator();
    const availability = await agg.initialize({
      primary: { models: { 'big-model': { apiKey: 'k1', baseUrl: deadUrl, timeout: 5, maxRetries: 1, maxConcurrentCalls: 2 } } },
      secondary: { models: { 'test-model': { api_key: 'k2', base_url: live.url, max_retries: 0 } } },
    });
    expect(availability).toEqual({ primary: { 'big-model': false }, secondary: { 'test-model': true } });

    const detailed = await agg.generateResponseDetailed(hello);
    expect(detailed).toMatchObject({ content: 'reply from backup', provider: 'secondary', model: 'test-model' });
    expect(detailed.failures).toHaveLength(1);
    expect(detailed.failures[0]).toMatchObject({ provider: 'primary', model: 'big-model' });
    expect(detailed.failures[0]?.error).toMatch(/connection error/i);

    expect(await agg.generateResponse(hello)).toBe('reply from backup');
    expect(agg.lastFailures.map((f) => `${f.provider}/${f.model}`)).toEqual(['primary/big-model']);
    expect(await agg.healthCheck()).toEqual(availability);
    await agg.close();
  });

  it('throws AllModelsFailedError listing every failure when nothing answers', async () => {
    const s = await track(startServer((_req, res) => json(res, 401, { error: { message: 'bad key', type: 'authentication_error', param: null, code: 'invalid_api_key' } })));
    const agg = new LLMAggrator();
    await agg.initialize({ a: { models: { m1: { baseUrl: s.url } } } }, { checkAvailability: false });
    const err = await agg.generateResponse(hello).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AllModelsFailedError);
    expect((err as AllModelsFailedError).failures).toEqual([expect.objectContaining({ provider: 'a', model: 'm1', status: 401, code: 'invalid_api_key' })]);
    await expect(agg.initialize({ a: { models: { m1: { baseUrl: 'not a url' } } } })).rejects.toThrow(/a\.models\.m1\.baseUrl/);
    await agg.close();
  });

  it('initializes from a flat LLM_MODEL settings map, and auto-detects when not configured', async () => {
    const s = await track(fakeOpenAI({ name: 'settings-engine', models: [{ id: 'detected-model', object: 'model' }] }));
    const agg = new LLMAggregator();
    await agg.initializeFromSettings({ LLM_MODEL: { 'my-gpt': { api_key: 'sk', base_url: s.url, model: 'real-id' } } });
    expect(agg.models).toEqual([{ provider: 'openai-compatible', model: 'my-gpt' }]);
    expect(await agg.generateResponse(hello)).toBe('reply from settings-engine');
    expect((s.requests.at(-1)?.body as { model: string }).model).toBe('real-id');
    await agg.close();

    clearDetectionCache();
    const auto = new LLMAggrator({ detect: { env: {}, hosts: ['127.0.0.1'], llmPorts: [s.port], embeddingPorts: [] } });
    expect(await auto.generateResponse(hello)).toBe('reply from settings-engine');
    expect((s.requests.at(-1)?.body as { model: string }).model).toBe('detected-model');
    await auto.close();
  });
});
