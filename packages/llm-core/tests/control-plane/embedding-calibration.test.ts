// Embedding latency is learnt per instance like an LLM's: two sim-embedding processes of one model, one run
// twice faster than the modelled GPU and one four times slower (--time-scale, the simulator's own knob). The
// manager's learning estimator starts from the default embedding rate and, with no setting, follows each.
import { countTokens } from '@sage/common';
import { createLearnedLatencyEstimator } from '../../src/control-plane/estimator';
import { ControlPlaneManager } from '../../src/control-plane/manager';
import type { RequestMetadata } from '../../src/control-plane/types';
import { startEngine, stopAll } from './integration-helpers';

afterAll(stopAll);

/** `n` inputs of about `words` words each. */
const inputs = (n: number, words: number, seed: number) => Array.from({ length: n }, (_, k) => Array.from({ length: words }, (_, w) => `w${(seed * 31 + k * 7 + w) % 997}`).join(' '));

describe('the learning estimator on embedding engines', () => {
  let manager: ControlPlaneManager | undefined;
  afterEach(async () => manager?.close());

  it('learns each embedding instance from the batches it serves, starting from the default rate', async () => {
    const [fast, slow] = await Promise.all([
      startEngine({ kind: 'sim-embedding', model: 'emb', timeScale: 0.5 }),
      startEngine({ kind: 'sim-embedding', model: 'emb', timeScale: 4 }),
    ]);
    const estimator = createLearnedLatencyEstimator();
    // Every request its own batch, sent one at a time: what is measured is the engine's service time.
    manager = new ControlPlaneManager({ policy: 'fifo', router: 'round_robin', estimator, embedding: { maxWaitMs: 0 } });
    manager.registerInstance({ id: 'fast', type: 'EMBEDDING', baseUrl: fast.baseUrl, models: ['emb'], maxConcurrency: 1 });
    manager.registerInstance({ id: 'slow', type: 'EMBEDDING', baseUrl: slow.baseUrl, models: ['emb'], maxConcurrency: 1 });
    const m = manager;
    const probe = (): RequestMetadata => ({ id: 'p', type: 'embedding', model: 'emb', priority: 2, promptTokens: 3000, status: 'queued', timestamps: { arrival: Date.now() } });
    const [fi, si] = [m.registry.get('fast')!, m.registry.get('slow')!];
    // Before any observation both are the default rate: the same estimate.
    expect(estimator.estimate(probe(), si)).toBeCloseTo(estimator.estimate(probe(), fi), 5);
    expect(estimator.rates('slow', 'emb').samples).toBe(0);

    // Batches of 1 to 8 inputs of 60 to 240 words: round robin alternates the two engines.
    for (let i = 0; i < 40; i++) await m.submit({ model: 'emb', input: inputs(1 + (i % 8), 60 + 60 * (i % 4), i) });

    const f = estimator.rates('fast', 'emb');
    const s = estimator.rates('slow', 'emb');
    expect(f.samples).toBeGreaterThan(5);
    expect(s.samples).toBeGreaterThan(5);
    // 8× apart in the simulator's time: the learnt per-token time follows (HTTP and tokenizing overhead make
    // the fast engine look slower than it is, so the bound is loose).
    expect(f.prefillTokensPerSec / s.prefillTokensPerSec).toBeGreaterThan(3);
    // The slow engine is four times slower than the default rate assumes: its estimate moved up to match.
    const predicted = estimator.estimate(probe(), si);
    expect(predicted).toBeGreaterThan(3 * estimator.estimate(probe(), fi));
    // A real request of that size on the slow engine takes about what is now predicted for it (round robin:
    // one of two requests in a row lands there).
    const big = inputs(8, 240, 99);
    const forIt: RequestMetadata = { ...probe(), promptTokens: big.reduce((n, t) => n + countTokens(t), 0) };
    const predictedForIt = estimator.estimate(forIt, si);
    const timed = [];
    for (let k = 0; k < 2; k++) {
      const t0 = Date.now();
      const r = await m.submit({ model: 'emb', input: big });
      timed.push({ instanceId: r.instanceId, ms: Date.now() - t0 });
    }
    const actual = timed.find((t) => t.instanceId === 'slow')!.ms;
    expect(predictedForIt / actual).toBeGreaterThan(0.5);
    expect(predictedForIt / actual).toBeLessThan(2);
    // The default rate alone would have promised it about four times too fast.
    const untaught = createLearnedLatencyEstimator().estimate(forIt, si);
    expect(untaught / actual).toBeLessThan(0.5);
  }, 60_000);
});
