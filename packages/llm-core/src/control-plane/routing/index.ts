export { outstanding, loadRatio, freeSlots, withinLoadBound } from './load';
export { LoadBalancedRouter, pickLeastLoaded, type LoadBalancedOptions, type Rng } from './load-balanced';
export { RoundRobinRouter } from './round-robin';
export { AffinityRouter, affinityKey, type AffinityOptions } from './affinity';
export { LocalityRouter, HashRing, localityKey, type LocalityOptions } from './locality';
export { PrefixAwareRouter, promptText, prefixBlockHashes, type PrefixAwareOptions, type PrefixMatch } from './prefix-aware';
export { PrefixCacheTable, type PrefixCacheTableOptions } from './prefix-cache-table';
export {
  TopologyAwareRouter,
  TopologyTier,
  TOPOLOGY_TIER_NAMES,
  topologyTier,
  type TopologyAwareOptions,
  type TopologyPair,
} from './topology-aware';
export { createRouter, isRouterName, ROUTER_NAMES, DEFAULT_ROUTER, type RouterName, type RouterOptions } from './factory';
