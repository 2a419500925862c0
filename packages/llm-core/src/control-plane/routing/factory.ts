// createRouter: the one way to get a routing strategy by name. An unknown name is an error listing the valid
// ones; there is no silent fallback to a default.
import type { RoutingStrategy } from '../types';
import { AffinityRouter, type AffinityOptions } from './affinity';
import { LoadBalancedRouter, type LoadBalancedOptions } from './load-balanced';
import { LocalityRouter, type LocalityOptions } from './locality';
import { PrefixAwareRouter, type PrefixAwareOptions } from './prefix-aware';
import { RoundRobinRouter } from './round-robin';
import { TopologyAwareRouter, type TopologyAwareOptions } from './topology-aware';

export const ROUTER_NAMES = ['load_balanced', 'round_robin', 'affinity', 'locality', 'prefix_aware', 'topology_aware'] as const;
export type RouterName = (typeof ROUTER_NAMES)[number];
export const DEFAULT_ROUTER: RouterName = 'load_balanced';

/** Options of every strategy in one bag; each strategy reads the ones it knows. */
export type RouterOptions = LoadBalancedOptions & AffinityOptions & LocalityOptions & PrefixAwareOptions & TopologyAwareOptions;

export function isRouterName(name: string): name is RouterName {
  return (ROUTER_NAMES as readonly string[]).includes(name);
}

export function createRouter(name: string, options: RouterOptions = {}): RoutingStrategy {
  switch (name) {
    case 'load_balanced':
      return new LoadBalancedRouter(options);
    case 'round_robin':
      return new RoundRobinRouter();
    case 'affinity':
      return new AffinityRouter(options);
    case 'locality':
      return new LocalityRouter(options);
    case 'prefix_aware':
      return new PrefixAwareRouter(options);
    case 'topology_aware':
      return new TopologyAwareRouter(options);
    default:
      throw new Error(`unknown routing strategy "${name}"; valid strategies: ${ROUTER_NAMES.join(', ')}`);
  }
}
