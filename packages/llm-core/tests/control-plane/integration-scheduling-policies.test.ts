// F-204 under overload on a real sim engine: the same burst of mixed-priority requests (HIGH ones with a
// tight deadline, spread through the arrival order) is run under fifo, priority and slo_aware. Ordering by
// urgency must meet more HIGH deadlines than arrival order. Only the direction is asserted (shared CPU).
import { ControlPlaneManager, RequestRejectedError } from '../../src/control-plane/manager';
import { createLatencyEstimator } from '../../src/control-plane/estimator';
import { RequestPriority } from '../../src/control-plane/types';
import type { LaunchedEngine } from '../../src/testing';
import { startEngine, stopAll } from './integration-helpers';

const TIME_SCALE = 0.2; // sim decode step 15 ms model time → ~3 ms wall per token
const N = 30;
const HIGH_DEADLINE_MS = 700;

interface Outcome {
  highMet: number;
  highTotal: number;
}

async function runWorkload(engine: LaunchedEngine, policy: string): Promise<Outcome> {
  const manager = new ControlPlaneManager({
    policy,
    router: 'load_balanced',
    // Calibrated to the sim's speed at this time scale, so feasibility checks are realistic.
    estimator: createLatencyEstimator({ decodeTokensPerSec: 1000 / (15 * TIME_SCALE), prefillTokensPerSec: 20_000 }),
    policyOptions: policy === 'slo_aware' ? { onInfeasible: 'demote' } : undefined,
  });
  manager.registerInstance({ id: 'llm', baseUrl: engine.baseUrl, models: ['sim-s'], maxConcurrency: 2 });
  try {
    const jobs = Array.from({ length: N }, (_, i) => {
      const high = i % 4 === 3; // HIGH requests arrive throughout the burst, most of them behind NORMAL/LOW ones
      const priority = high ? RequestPriority.HIGH : i % 2 === 0 ? RequestPriority.NORMAL : RequestPriority.LOW;
      const started = Date.now();
      return manager
        .submit({ model: 'sim-s', messages: [{ role: 'user', content: `Tell me about item ${i}.` }], maxTokens: 30, priority, sloDeadlineMs: high ? HIGH_DEADLINE_MS : 20_000 })
        .then(
          () => ({ high, met: Date.now() - started <= HIGH_DEADLINE_MS }),
          (err: unknown) => {
            if (!(err instanceof RequestRejectedError)) throw err;
            return { high, met: false };
          },
        );
    });
    const results = await Promise.all(jobs);
    const highs = results.filter((r) => r.high);
    return { highMet: highs.filter((r) => r.met).length, highTotal: highs.length };
  } finally {
    await manager.close();
  }
}

describe('scheduling policies under overload (real sim engine)', () => {
  let engine: LaunchedEngine;
  beforeAll(async () => {
    engine = await startEngine({ kind: 'sim-llm', model: 'sim-s', timeScale: TIME_SCALE });
  });
  afterAll(stopAll);

  it('priority and slo_aware meet more HIGH-priority deadlines than fifo on the same workload', async () => {
    const fifo = await runWorkload(engine, 'fifo');
    const priority = await runWorkload(engine, 'priority');
    const slo = await runWorkload(engine, 'slo_aware');
    expect(fifo.highTotal).toBe(priority.highTotal);
    expect(priority.highMet).toBeGreaterThan(fifo.highMet);
    expect(slo.highMet).toBeGreaterThan(fifo.highMet);
  }, 60_000);
});
