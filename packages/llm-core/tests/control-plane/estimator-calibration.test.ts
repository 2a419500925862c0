// The learning latency model: calibrated online from what the control plane observes, it converges on an
// engine faster and on one slower than its defaults, takes the output length from what the model produced
// (bounded by max_tokens) and scores its own accuracy. Observations are fed as the manager feeds them
// (started at dispatch, finished with the request's timestamps), from a known engine model; the real engines
// are exercised by manager-calibration.test.ts and the scoreboard.
import { createLearnedLatencyEstimator, createLatencyEstimator } from '../../src/control-plane/estimator';
import type { ExecutionInstance, RequestMetadata } from '../../src/control-plane/types';
import { inst, mulberry32, req } from './policies-fixtures';

/** A continuous-batching engine in closed form: TTFT = base + tokens / rate; TPOT = step + perSeq × running. */
interface Engine {
  ttftBaseMs: number;
  prefillTokensPerSec: number;
  tpotBaseMs: number;
  tpotPerSeqMs: number;
}
const FAST: Engine = { ttftBaseMs: 8, prefillTokensPerSec: 20_000, tpotBaseMs: 7.5, tpotPerSeqMs: 0.06 };
const SLOW: Engine = { ttftBaseMs: 60, prefillTokensPerSec: 1_000, tpotBaseMs: 70, tpotPerSeqMs: 0.4 };

function truth(e: Engine, promptTokens: number, outputTokens: number, running: number) {
  const ttft = e.ttftBaseMs + (1000 * promptTokens) / e.prefillTokensPerSec;
  return { ttft, e2e: ttft + (outputTokens - 1) * (e.tpotBaseMs + e.tpotPerSeqMs * running) };
}

/** Serves `n` requests one at a time on `instance` (running = 1), streamed or not; returns the clock at the end. */
function serve(est: ReturnType<typeof createLearnedLatencyEstimator>, instance: ExecutionInstance, engine: Engine, n: number, opts: { stream?: boolean; seed?: number; natural?: () => number; clock?: number } = {}) {
  const rand = mulberry32(opts.seed ?? 1);
  let clock = opts.clock ?? 1_000_000;
  const errors: number[] = [];
  for (let i = 0; i < n; i++) {
    const promptTokens = 50 + Math.floor(rand() * 1500);
    const maxTokens = 16 + Math.floor(rand() * 112);
    const out = opts.natural ? Math.min(maxTokens, opts.natural()) : maxTokens;
    const r: RequestMetadata = req(`${instance.id}-${clock}`, { promptTokens, maxTokens, arrival: clock });
    const predicted = est.breakdown(r, instance);
    est.started(r, instance, clock);
    const t = truth(engine, promptTokens, out, 1);
    if (opts.stream !== false) r.timestamps.firstToken = clock + t.ttft;
    clock += t.e2e;
    r.timestamps.finished = clock;
    est.finished(r, { completed: true, completionTokens: out });
    errors.push(Math.abs(predicted.prefillMs + predicted.decodeMs - t.e2e) / t.e2e);
    clock += 1;
  }
  return { clock, errors };
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

describe('learning latency estimator', () => {
  it.each([
    ['faster', FAST],
    ['slower', SLOW],
  ])('converges on an engine %s than its defaults', (_name, engine) => {
    const est = createLearnedLatencyEstimator();
    const i = inst('e', { maxConcurrency: 4 });
    const { errors } = serve(est, i, engine, 80);
    // The first predictions are the defaults' (a 2,000 tok/s, 25 ms/token engine): far off for both.
    expect(errors[0]).toBeGreaterThan(0.3);
    expect(median(errors.slice(50))).toBeLessThan(0.05);
    const rates = est.rates('e', 'm');
    expect(rates.prefillTokensPerSec).toBeGreaterThan(engine.prefillTokensPerSec * 0.8);
    expect(rates.prefillTokensPerSec).toBeLessThan(engine.prefillTokensPerSec * 1.25);
    expect(rates.tpotBaseMs + rates.tpotPerSeqMs).toBeCloseTo(engine.tpotBaseMs + engine.tpotPerSeqMs, 0);
    expect(rates.samples).toBeGreaterThan(10);
    // Scored after its warm-up: the figure /v1/metrics reports.
    const acc = est.accuracy().e!;
    expect(acc.samples).toBe(80);
    expect(acc.e2eMdape).not.toBeNull();
    expect(acc.e2eMdape!).toBeLessThan(0.05);
    expect(acc.ttftMdape!).toBeLessThan(0.1);
  });

  it('keeps one model per instance: a fast and a slow engine of the same model are told apart', () => {
    const est = createLearnedLatencyEstimator();
    const fast = inst('fast');
    const slow = inst('slow');
    serve(est, fast, FAST, 40, { seed: 2 });
    serve(est, slow, SLOW, 40, { seed: 3 });
    const r = req('q', { promptTokens: 800, maxTokens: 64 });
    const ratio = est.estimate(r, slow) / est.estimate(r, fast);
    const real = truth(SLOW, 800, 64, 1).e2e / truth(FAST, 800, 64, 1).e2e;
    expect(ratio).toBeGreaterThan(real * 0.8);
    expect(ratio).toBeLessThan(real * 1.2);
    // An instance never measured starts from what the model's other instances taught, not from the defaults.
    const fresh = est.estimate(r, inst('new'));
    expect(fresh).toBeGreaterThan(est.estimate(r, fast));
    expect(fresh).toBeLessThan(est.estimate(r, slow));
  });

  it('calibrates from requests that were not streamed (no first-token time)', () => {
    const est = createLearnedLatencyEstimator();
    const i = inst('e');
    serve(est, i, SLOW, 10, { seed: 4 }); // streamed: the prefill model
    const { errors } = serve(est, i, SLOW, 60, { stream: false, seed: 5, clock: 9_000_000 });
    expect(median(errors.slice(30))).toBeLessThan(0.08);
  });

  it('slows decode with the sequences the engine runs', () => {
    const est = createLearnedLatencyEstimator();
    const i = inst('e', { maxConcurrency: 64 });
    let clock = 5_000_000;
    // Requests run in batches of 1, 8 and 32 at a time: TPOT grows 0.4 ms per running sequence.
    for (let round = 0; round < 12; round++) {
      const batch = [1, 8, 32][round % 3]!;
      const rs = Array.from({ length: batch }, (_, k) => req(`r${round}-${k}`, { promptTokens: 100, maxTokens: 50, arrival: clock }));
      for (const r of rs) est.started(r, i, clock);
      const t = truth(SLOW, 100, 50, batch);
      for (const r of rs) {
        r.timestamps.firstToken = clock + t.ttft;
        r.timestamps.finished = clock + t.e2e;
        est.finished(r, { completed: true, completionTokens: 50 });
      }
      clock += t.e2e + 1;
    }
    const rates = est.rates('e', 'm');
    expect(rates.tpotPerSeqMs).toBeGreaterThan(0.3);
    expect(rates.tpotPerSeqMs).toBeLessThan(0.5);
    const r = req('q', { promptTokens: 100, maxTokens: 50 });
    expect(est.breakdown(r, inst('e', { maxConcurrency: 64, load: { activeRequests: 40 } })).decodeMs).toBeGreaterThan(est.breakdown(r, inst('e', { maxConcurrency: 64 })).decodeMs * 1.2);
  });

  it('takes the output length from what the model produced, bounded by max_tokens', () => {
    const est = createLearnedLatencyEstimator();
    const i = inst('e');
    const rand = mulberry32(9);
    // The model stops by itself after 20..40 tokens, whatever max_tokens allows.
    serve(est, i, FAST, 60, { natural: () => 20 + Math.floor(rand() * 21), seed: 6 });
    const long = est.breakdown(req('a', { promptTokens: 100, maxTokens: 2000 }), i);
    const short = est.breakdown(req('b', { promptTokens: 100, maxTokens: 10 }), i);
    const tpot = FAST.tpotBaseMs + FAST.tpotPerSeqMs;
    expect(long.decodeMs / tpot).toBeGreaterThan(15);
    expect(long.decodeMs / tpot).toBeLessThan(45); // the median natural length, not 2,000
    expect(short.decodeMs / tpot).toBeLessThan(10); // max_tokens bounds it
  });

  it('predicts max_tokens for a model that always fills it (outputs cut at the limit are censored)', () => {
    const est = createLearnedLatencyEstimator();
    const i = inst('e');
    serve(est, i, FAST, 40, { seed: 7 }); // every answer fills max_tokens
    const r = est.breakdown(req('a', { promptTokens: 100, maxTokens: 120 }), i);
    expect(r.decodeMs / (FAST.tpotBaseMs + FAST.tpotPerSeqMs)).toBeGreaterThan(110);
  });

  it('reports no accuracy before the warm-up and forgets a removed instance', () => {
    const est = createLearnedLatencyEstimator();
    serve(est, inst('e'), FAST, 20);
    expect(est.accuracy().e).toMatchObject({ samples: 20, e2eMdape: null });
    est.forget('e');
    expect(est.accuracy().e).toBeUndefined();
    expect(() => createLearnedLatencyEstimator({ outputQuantile: 0 })).toThrow(/outputQuantile/);
  });

  it('agrees with the fixed-rate estimator before any observation, apart from the observed-TTFT floor', () => {
    const learned = createLearnedLatencyEstimator();
    const fixed = createLatencyEstimator();
    const r = req('a', { promptTokens: 500, maxTokens: 100 });
    const i = inst('e', { maxConcurrency: 4, load: { activeRequests: 2 } });
    expect(learned.breakdown(r, i).prefillMs).toBeCloseTo(fixed.breakdown(r, i).prefillMs, 6);
  });
});
