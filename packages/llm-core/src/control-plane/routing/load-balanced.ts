// load_balanced (default): least outstanding work normalised by concurrency; ties broken by the power of two
// random choices (sample two of the tied, keep the better by secondary signals) so equal instances share work
// instead of the first in the list taking everything.
import type { ExecutionInstance, RequestMetadata, RoutingStrategy } from '../types';
import { loadRatio, outstanding } from './load';

export type Rng = () => number;

export interface LoadBalancedOptions {
  /** Random source in [0, 1); injectable for deterministic tests. */
  rng?: Rng;
}

const EPS = 1e-9;

/** Secondary comparison between equally loaded instances: fewer absolute requests, less KV cache, lower latency. */
function better(a: ExecutionInstance, b: ExecutionInstance): ExecutionInstance {
  // Key by key, as comparing [outstanding, kvCacheUsage, ewmaLatencyMs] lists would (a NaN decides nothing).
  const oa = outstanding(a);
  const ob = outstanding(b);
  if (oa < ob) return a;
  if (ob < oa) return b;
  if (a.load.kvCacheUsage < b.load.kvCacheUsage) return a;
  if (b.load.kvCacheUsage < a.load.kvCacheUsage) return b;
  if (a.load.ewmaLatencyMs < b.load.ewmaLatencyMs) return a;
  if (b.load.ewmaLatencyMs < a.load.ewmaLatencyMs) return b;
  return a;
}

/** The `n`-th (0-based) of `candidates` within EPS of the least load `min` (undefined when there is none). */
function nthTied(candidates: readonly ExecutionInstance[], min: number, n: number): ExecutionInstance | undefined {
  if (n < 0) return undefined;
  for (const c of candidates) {
    if (!(loadRatio(c) <= min + EPS)) continue;
    if (n === 0) return c;
    n -= 1;
  }
  return undefined;
}

/** Least-loaded instance among `candidates` (undefined when empty). */
export function pickLeastLoaded(candidates: readonly ExecutionInstance[], rng: Rng = Math.random): ExecutionInstance | undefined {
  if (candidates.length === 0) return undefined;
  let min = Infinity;
  for (const c of candidates) min = Math.min(min, loadRatio(c));
  // The tied instances are counted and then indexed, not gathered into an array: this runs for every placement.
  let tied = 0;
  for (const c of candidates) if (loadRatio(c) <= min + EPS) tied += 1;
  if (tied === 1) return nthTied(candidates, min, 0);
  const i = Math.min(tied - 1, Math.floor(rng() * tied));
  let j = Math.min(tied - 2, Math.floor(rng() * (tied - 1)));
  if (j >= i) j += 1; // a second, distinct sample
  return better(nthTied(candidates, min, i) as ExecutionInstance, nthTied(candidates, min, j) as ExecutionInstance);
}

export class LoadBalancedRouter implements RoutingStrategy {
  // Widened to string so topology_aware, which routes single requests exactly like this, can extend it.
  readonly name: string = 'load_balanced';
  protected readonly rng: Rng;

  constructor(options: LoadBalancedOptions = {}) {
    this.rng = options.rng ?? Math.random;
  }

  route(_request: RequestMetadata, candidates: readonly ExecutionInstance[]): ExecutionInstance | undefined {
    return pickLeastLoaded(candidates, this.rng);
  }
}
