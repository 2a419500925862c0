// F-216 remote mode against the real control-plane server: every call of the client goes through the
// server's OpenAI API into the ControlPlaneManager (its metrics count them), never straight to an engine.
import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { UnifiedInferenceClient } from '../../src/client';
import { ControlPlaneManager } from '../../src/control-plane/manager';
import { launchSimEngine, type LaunchedEngine } from '../../src/testing';
import { InstanceType } from '../../src/control-plane/types';
import { buildServer } from '../../src/server/app';

describe('UnifiedInferenceClient.create({ controlPlaneUrl })', () => {
  let engines: LaunchedEngine[] = [];
  let manager: ControlPlaneManager;
  let app: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    engines = await Promise.all([
      launchSimEngine({ kind: 'sim-llm', model: 'cp-llm', timeScale: 0.05 }),
      launchSimEngine({ kind: 'sim-embedding', model: 'cp-emb', timeScale: 0.2 }),
    ]);
    manager = new ControlPlaneManager({ policy: 'slo_aware' });
    manager.registerInstance({ id: 'llm', baseUrl: engines[0].baseUrl, models: ['cp-llm'] });
    manager.registerInstance({ id: 'emb', baseUrl: engines[1].baseUrl, models: ['cp-emb'], type: InstanceType.EMBEDDING });
    app = await buildServer({ manager });
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app?.close();
    await manager?.close();
    await Promise.all(engines.map((e) => e.stop()));
  });

  it('chats, streams and embeds through the control plane', async () => {
    const client = await UnifiedInferenceClient.create({ controlPlaneUrl: url, defaultLlmModel: 'cp-llm', defaultEmbeddingModel: 'cp-emb', timeout: 20 });
    try {
      expect(client.mode).toBe('remote');
      const before = manager.getMetrics().requests.completed;
      const a = await client.chat([{ role: 'system', content: 'Context: The harbour master is Ingrid.' }, { role: 'user', content: 'Who is the harbour master?' }], { maxTokens: 16, priority: 'HIGH', sloDeadlineMs: 10_000 });
      expect(a).toContain('Ingrid');
      let s = '';
      for await (const d of client.stream([{ role: 'system', content: 'Context: The bell rings at noon.' }, { role: 'user', content: 'When does the bell ring?' }], { maxTokens: 16 })) s += d;
      expect(s).toContain('noon');
      const v = await client.embed(['one text', 'another text']);
      expect(v).toHaveLength(2);
      expect(v[0]).not.toEqual(v[1]);
      expect(manager.getMetrics().requests.completed - before).toBe(3); // chat, stream, one embedding request of two texts
      const m = await client.getMetrics();
      expect(m).toHaveProperty('requests');
    } finally {
      await client.close();
    }
  });
});
