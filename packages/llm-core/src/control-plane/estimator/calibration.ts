// What the control plane has learnt about how fast each engine is, per instance and model:
//   prefill:  time to first token (dispatch to first chunk) = a + b × prompt tokens
//   decode:   time per output token                          = c + d × sequences the engine runs
// fitted online (online-fit.ts) from what the control plane sees of every request it dispatched (first-token
// and finish times, the usage the engine reports) and from the engine's own /metrics histograms where it
// exports them. Until samples arrive the defaults speak; they fade as the fitted weight grows.
import { DecayingLinearFit, type LinearFit } from './online-fit';

/** Samples' weight at which a fit and the default count equally. */
const PRIOR_WEIGHT = 0.5;

export interface Line {
  a: number;
  b: number;
}

/** The fit `blendInto` reads, reused: every estimate blends several lines, and JavaScript runs one at a time. */
const scratchFit: LinearFit = { a: 0, b: 0, weight: 0 };

/** y = a + b·x blended from the fit (by its weight) and the prior, written into `out` (which may be `prior`). */
function blendInto(fit: DecayingLinearFit, prior: Line, out: Line): Line {
  if (!fit.fitInto(scratchFit, prior.b)) {
    out.a = prior.a;
    out.b = prior.b;
    return out;
  }
  const f = scratchFit;
  const w = f.weight / (f.weight + PRIOR_WEIGHT);
  const a = w * f.a + (1 - w) * prior.a;
  const b = w * f.b + (1 - w) * prior.b;
  out.a = a;
  out.b = b;
  return out;
}

/** y = a + b·x blended from the fit (by its weight) and the prior. */
function blend(fit: DecayingLinearFit, prior: Line): Line {
  return blendInto(fit, prior, { a: 0, b: 0 });
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

  /** prefillLine written into `out` (which may be `prior`). */
  prefillLineInto(prior: Line, out: Line): Line {
    return blendInto(this.prefill, prior, out);
  }

  /** decodeLine written into `out` (which may be `prior`). */
  decodeLineInto(prior: Line, out: Line): Line {
    return blendInto(this.decode, prior, out);
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
  /** By instance, then model: looked up on every estimate without building a key string. */
  private readonly models = new Map<string, Map<string, SpeedModel>>();
  private readonly clocks = new Map<string, RunningClock>();
  private readonly engineSeen = new Map<string, EngineTimings>();

  /** The model of (instance, model), created on first use. Instance '' holds what every instance of the model taught. */
  speed(instanceId: string, model: string): SpeedModel {
    let byModel = this.models.get(instanceId);
    if (!byModel) this.models.set(instanceId, (byModel = new Map()));
    let m = byModel.get(model);
    if (!m) byModel.set(model, (m = new SpeedModel()));
    return m;
  }

  /** The model of (instance, model) if one was made; instance '' is the model's pooled one. */
  find(instanceId: string, model: string): SpeedModel | undefined {
    return this.models.get(instanceId)?.get(model);
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
    this.models.delete(instanceId);
    this.clocks.delete(instanceId);
    this.engineSeen.delete(instanceId);
  }
}
