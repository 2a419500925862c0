// topology_aware: for prefill→decode pairs the KV cache travels between instances, so the decode instance is
// chosen by link quality first (NVLink peer, then same machine, then same rack, then anywhere) and by load
// within the best tier. A single-instance route() is plain load balancing (topology only matters for pairs).
import type { ExecutionInstance, RequestMetadata } from '../types';
import { LoadBalancedRouter, pickLeastLoaded, type LoadBalancedOptions } from './load-balanced';

export const TopologyTier = { NVLINK: 0, SAME_MACHINE: 1, SAME_RACK: 2, REMOTE: 3 } as const;
export type TopologyTier = (typeof TopologyTier)[keyof typeof TopologyTier];
export const TOPOLOGY_TIER_NAMES = ['nvlink', 'same_machine', 'same_rack', 'remote'] as const;

/** How closely two instances are connected (lower is closer). NVLink: either side lists the other, or one group. */
export function topologyTier(a: ExecutionInstance, b: ExecutionInstance): TopologyTier {
  const ta = a.topology ?? {};
  const tb = b.topology ?? {};
  if (ta.nvlinkPeers?.includes(b.id) || tb.nvlinkPeers?.includes(a.id)) return TopologyTier.NVLINK;
  if (ta.nvlinkGroup !== undefined && ta.nvlinkGroup === tb.nvlinkGroup) return TopologyTier.NVLINK;
  if (ta.machineId !== undefined && ta.machineId === tb.machineId) return TopologyTier.SAME_MACHINE;
  if (ta.rackId !== undefined && ta.rackId === tb.rackId) return TopologyTier.SAME_RACK;
  return TopologyTier.REMOTE;
}

export interface TopologyPair {
  prefill: ExecutionInstance;
  decode: ExecutionInstance;
  tier: (typeof TOPOLOGY_TIER_NAMES)[number];
}

export type TopologyAwareOptions = LoadBalancedOptions;

/** load_balanced for single requests (inherited route()), plus topology-first choice of prefill→decode pairs. */
export class TopologyAwareRouter extends LoadBalancedRouter {
  override readonly name: string = 'topology_aware';

  /** Decode instance for `prefill`: the least loaded among the best-connected tier (never `prefill` itself). */
  pairFor(prefill: ExecutionInstance, decodeCandidates: readonly ExecutionInstance[]): ExecutionInstance | undefined {
    const others = decodeCandidates.filter((d) => d.id !== prefill.id);
    if (others.length === 0) return undefined;
    const best = Math.min(...others.map((d) => topologyTier(prefill, d)));
    return pickLeastLoaded(
      others.filter((d) => topologyTier(prefill, d) === best),
      this.rng,
    );
  }

  /** A whole prefill→decode pair: the least loaded prefill instance, then its best-connected decode partner. */
  choosePair(
    request: RequestMetadata,
    prefillCandidates: readonly ExecutionInstance[],
    decodeCandidates: readonly ExecutionInstance[],
  ): TopologyPair | undefined {
    const prefill = this.route(request, prefillCandidates);
    if (!prefill) return undefined;
    const decode = this.pairFor(prefill, decodeCandidates);
    if (!decode) return undefined;
    return { prefill, decode, tier: TOPOLOGY_TIER_NAMES[topologyTier(prefill, decode)] };
  }
}
