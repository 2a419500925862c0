// Prefill/decode separation (F-207): whether a request is split, and onto which prefill and decode instances.
import { shouldSeparate, type PdOptions } from '../pd';
import { InstanceType, type ExecutionInstance, type RequestMetadata, type RoutingStrategy, type SchedulingDecision } from '../types';
import type { CircuitBreaker } from '../executor';
import { hasCapacity, servingInstances } from './instance-checks';
import { promptTokenCount } from './prompt-tokens';
import type { InstanceRegistry } from './registry';

const DEFAULT_MAX_TOKENS = 256;

export interface PdPairingContext {
  pd: PdOptions;
  registry: InstanceRegistry;
  router: RoutingStrategy;
  /** Healthy, with a circuit that takes requests. */
  usable: (i: ExecutionInstance) => boolean;
  circuitState: (id: string) => CircuitBreaker['currentState'];
}

/** The pair for a request the policy placed on `chosen`, or undefined when it runs unsplit on `chosen`. */
export function pickPdPair(ctx: PdPairingContext, meta: RequestMetadata, chosen: ExecutionInstance, d: SchedulingDecision, excluded: ReadonlySet<string>): { prefill: ExecutionInstance; decode: ExecutionInstance } | undefined {
  const { registry, router } = ctx;
  // Off: no need to count the prompt's tokens at all.
  if (!ctx.pd.enabled || !shouldSeparate(ctx.pd, promptTokenCount(meta), meta.maxTokens ?? DEFAULT_MAX_TOKENS)) return undefined;
  if (chosen.type !== InstanceType.PREFILLING && chosen.type !== InstanceType.DECODING) return undefined;
  // Routers work on snapshots; what is returned is the registry's own instance (snapshots carry no API key).
  const live = (i: ExecutionInstance | undefined) => (i ? registry.get(i.id) : undefined);
  // `chosen` already holds this request's slot (and its circuit's probe, if half-open), so it is always a
  // candidate. Any other instance is taken only with a free slot and a closed circuit.
  const others = servingInstances(meta, registry.snapshot(ctx.usable)).filter((i) => i.id !== chosen.id && hasCapacity(i) && ctx.circuitState(i.id) === 'closed');
  const candidates = [...registry.snapshot((i) => i.id === chosen.id), ...others];
  // A retry goes to instances that have not failed this request, where there are any (for each leg).
  const ofType = (type: InstanceType) => {
    const all = candidates.filter((i) => i.type === type);
    const fresh = all.filter((i) => !excluded.has(i.id));
    return fresh.length > 0 ? fresh : all;
  };
  const pairing = router as RoutingStrategy & { pairFor?: (p: ExecutionInstance, c: readonly ExecutionInstance[]) => ExecutionInstance | undefined };
  const view = (i: ExecutionInstance) => candidates.find((c) => c.id === i.id) ?? i;
  const prefills = ofType(InstanceType.PREFILLING);
  // Placed on a DECODING instance: a topology-aware router picks the prefill best connected to it (links are symmetric).
  const prefill = prefills.some((i) => i.id === chosen.id)
    ? chosen
    : live(chosen.type === InstanceType.DECODING && pairing.pairFor ? pairing.pairFor(view(chosen), prefills) : router.route(meta, prefills));
  if (!prefill) return undefined;
  const decodes = ofType(InstanceType.DECODING);
  let decode: ExecutionInstance | undefined;
  if (d.decodeInstanceId) decode = live(decodes.find((i) => i.id === d.decodeInstanceId));
  if (!decode && decodes.some((i) => i.id === chosen.id)) decode = chosen;
  if (!decode) {
    const prefillView = view(prefill);
    decode = live(pairing.pairFor ? pairing.pairFor(prefillView, decodes) : router.route(meta, decodes));
  }
  return decode ? { prefill, decode } : undefined;
}
