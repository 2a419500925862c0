// What the control plane has learnt about how fast each engine is, per instance and model:
//   prefill:  time to first token (dispatch to first chunk) = a + b × prompt tokens
//   decode:   time per output token                          = c + d × sequences the engine runs
// fitted online (online-fit.ts) from what the control plane sees of every request it dispatched (first-token
// and finish times, the usage the engine reports) and from the engine's own /metrics histograms where it
// exports them. Until samples arrive the defaults speak; they fade as the fitted weight grows.
import { DecayingLinearFit } from './online-fit';

/** Samples' weight at which a fit and the default count equally. */
const PRIOR_WEIGHT = 0.5;

export interface Line {
  a: number;
  b: number;
}

/** y = a + b·x blended from the fit (by its weight) and the prior. */
function blend(fit: DecayingLinearFit, prior: Line): Line {
  const f = fit.fit(prior.b);
  if (!f) return prior;
  const w = f.weight / (f.weight + PRIOR_WEIGHT);
  return { a: w * f.a + (1 - w) * prior.a, b: w * f.b + (1 - w) * prior.b };
}

/** Sequences running on one instance over time, so a request's decode can be placed at the load it saw. */
class RunningClock {
  private running = 0;
  private area = 0;
  private at = 0;

  private advance(now: number): void {
    if (this.at > 0 && now > this.at) this.area += this.running * (now - this.at);
    this.at = now;
  }

  /** The area under the running count so far (for averages between two moments). */
  mark(now: number): number {
    this.advance(now);
    return this.area;
  }

  change(now: number, delta: number): void {
    this.advance(now);
    this.running = Math.max(0, this.running + delta);
  }

  get current(): number {
    return this.running;
  }
}

export class SpeedModel {
  readonly prefill = new DecayingLinearFit();
  readonly decode = new DecayingLinearFit();

  prefillLine(prior: Line): Line {
    return blend(this.prefill, prior);
  }

  decodeLine(prior: Line): Line {
    return blend(this.decode, prior);
  }

  get samples(): number {
    return this.prefill.weight + this.decode.weight;
  }
}

export interface EngineTimings {
  /** Cumulative sums and counts of the engine's own histograms (seconds). */
  ttftSum?: number;
  ttftCount?: number;
  tpotSum?: number;
  tpotCount?: number;
  promptTokens?: number;
  running?: number;
}

/** The speed models of every instance and model, with each instance's running clock and the engine counters last seen. */
export class Calibration {
  private readonly models = new Map<string, SpeedModel>();
  private readonly clocks = new Map<string, RunningClock>();
  private readonly engineSeen = new Map<string, EngineTimings>();

  private static key(instanceId: string, model: string): string {
    return `${instanceId}\u0000${model}`;
  }

  /** The model of (instance, model), created on first use. Instance '' holds what every instance of the model taught. */
  speed(instanceId: string, model: string): SpeedModel {
    const k = Calibration.key(instanceId, model);
    let m = this.models.get(k);
    if (!m) this.models.set(k, (m = new SpeedModel()));
    return m;
  }

  /** The best-informed model for (instance, model): its own once it has samples, else the model's pooled one. */
  lookup(instanceId: string, model: string): { own?: SpeedModel; pooled?: SpeedModel } {
    return { own: this.models.get(Calibration.key(instanceId, model)), pooled: this.models.get(Calibration.key('', model)) };
  }

  clock(instanceId: string): RunningClock {
    let c = this.clocks.get(instanceId);
    if (!c) this.clocks.set(instanceId, (c = new RunningClock()));
    return c;
  }

  running(instanceId: string): number {
    return this.clocks.get(instanceId)?.current ?? 0;
  }

  /**
   * The engine's cumulative histograms since the last poll: mean TTFT against mean prompt length, mean time per
   * output token against the running sequences. Counters that went backwards (an engine restart) start over.
   */
  observeEngine(instanceId: string, model: string, t: EngineTimings): void {
    const prev = this.engineSeen.get(instanceId);
    this.engineSeen.set(instanceId, t);
    if (!prev) return;
    const own = this.speed(instanceId, model);
    const dTtftN = (t.ttftCount ?? 0) - (prev.ttftCount ?? 0);
    const dTtft = (t.ttftSum ?? 0) - (prev.ttftSum ?? 0);
    const dPrompt = (t.promptTokens ?? 0) - (prev.promptTokens ?? 0);
    if (dTtftN > 0 && dTtft >= 0 && dPrompt >= 0) own.prefill.add(dPrompt / dTtftN, (dTtft / dTtftN) * 1000);
    const dTpotN = (t.tpotCount ?? 0) - (prev.tpotCount ?? 0);
    const dTpot = (t.tpotSum ?? 0) - (prev.tpotSum ?? 0);
    if (dTpotN > 0 && dTpot >= 0) own.decode.add(Math.max(1, t.running ?? prev.running ?? 1), (dTpot / dTpotN) * 1000);
  }

  forget(instanceId: string): void {
    for (const k of [...this.models.keys()]) if (k.startsWith(`${instanceId}\u0000`)) this.models.delete(k);
    this.clocks.delete(instanceId);
    this.engineSeen.delete(instanceId);
  }
}
