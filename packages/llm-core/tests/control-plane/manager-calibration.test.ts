// Calibration against real engines: two sim-llm processes of the same model, one run four times faster than
// the modelled GPU and one twice slower (--time-scale: the simulator's own knob, untouched by the estimator).
// The manager's learning estimator, with no setting, tells them apart from what it observes — streamed and
// plain requests, and the engines' /metrics, which are polled by default and also bring their KV capacity.
import { createLearnedLatencyEstimator } from '../../src/control-plane/estimator';
import { ControlPlaneManager } from '../../src/control-plane/manager';
import { startEngine, stopAll } from './integration-helpers';
import { until } from './manager-test-kit';

afterAll(stopAll);

describe('the learning estimator on real engines', () => {
  let manager: ControlPlaneManager | undefined;
  afterEach(async () => manager?.close());

  it('converges on a faster and a slower engine without being told their speed', async () => {
    const [fast, slow] = await Promise.all([
      startEngine({ kind: 'sim-llm', model: 'cal', timeScale: 0.25, extraArgs: ['--kv-cache-blocks', '2000'] }),
      startEngine({ kind: 'sim-llm', model: 'cal', timeScale: 2 }),
    ]);
    const estimator = createLearnedLatencyEstimator();
    manager = new ControlPlaneManager({ policy: 'fifo', router: 'round_robin', estimator, engineMetricsPollMs: 200 });
    manager.registerInstance({ id: 'fast', baseUrl: fast.baseUrl, models: ['cal'], maxConcurrency: 2 });
    manager.registerInstance({ id: 'slow', baseUrl: slow.baseUrl, models: ['cal'], maxConcurrency: 2 });
    const m = manager;
    const one = async (i: number) => {
      const request = { model: 'cal', messages: [{ role: 'user', content: `Tell me about item ${i} ${'and more '.repeat(i % 40)}` }], maxTokens: 8 + (i % 3) * 8 };
      if (i % 2 === 0) {
        const s = await m.submitStream(request);
        for await (const chunk of s) void chunk;
      } else {
        await m.submit(request);
      }
    };
    for (let i = 0; i < 48; i += 4) await Promise.all([i, i + 1, i + 2, i + 3].map(one));
    const f = estimator.rates('fast', 'cal');
    const s = estimator.rates('slow', 'cal');
    expect(f.samples).toBeGreaterThan(5);
    expect(s.samples).toBeGreaterThan(5);
    // 8× apart in the simulator's time: the learnt time per output token follows (HTTP overhead and a loaded
    // machine make the fast engine look a little slower than it is, so the bound is loose).
    const tpot = (r: typeof f) => r.tpotBaseMs + 2 * r.tpotPerSeqMs;
    expect(tpot(s) / tpot(f)).toBeGreaterThan(3);
    // Its estimates for the same request are ordered the same way, on either instance's live view.
    const [fi, si] = [m.registry.get('fast')!, m.registry.get('slow')!];
    const probe = { id: 'p', type: 'llm_chat', model: 'cal', priority: 2, maxTokens: 32, promptTokens: 100, status: 'queued', timestamps: { arrival: Date.now() } } as const;
    expect(estimator.estimate({ ...probe, timestamps: { ...probe.timestamps } }, si)).toBeGreaterThan(3 * estimator.estimate({ ...probe, timestamps: { ...probe.timestamps } }, fi));
    // The engines' /metrics are read without being asked: KV capacity (blocks × block size) reaches the instances.
    await until(() => m.registry.get('fast')?.kvCacheTokens === 2000 * 16 && m.registry.get('slow')?.kvCacheTokens === 7500 * 16);
    expect(m.getMetrics().estimator.fast?.samples).toBeGreaterThan(5);
  }, 60_000);
});
