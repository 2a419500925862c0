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
  const keys = (i: ExecutionInstance) => [outstanding(i), i.load.kvCacheUsage, i.load.ewmaLatencyMs];
  const ka = keys(a);
  const kb = keys(b);
  for (let k = 0; k < ka.length; k++) {
    if (ka[k] < kb[k]) return a;
    if (kb[k] < ka[k]) return b;
  }
  return a;
}

/** Least-loaded instance among `candidates` (undefined when empty). */
export function pickLeastLoaded(candidates: readonly ExecutionInstance[], rng: Rng = Math.random): ExecutionInstance | undefined {
  if (candidates.length === 0) return undefined;
  let min = Infinity;
  for (const c of candidates) min = Math.min(min, loadRatio(c));
  const tied = candidates.filter((c) => loadRatio(c) <= min + EPS);
  if (tied.length === 1) return tied[0];
  const i = Math.min(tied.length - 1, Math.floor(rng() * tied.length));
  let j = Math.min(tied.length - 2, Math.floor(rng() * (tied.length - 1)));
  if (j >= i) j += 1; // a second, distinct sample
  return better(tied[i], tied[j]);
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
