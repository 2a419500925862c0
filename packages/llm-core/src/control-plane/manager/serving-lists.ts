// Which instances serve a kind of request (its type and model), and which of those are healthy. Admission asks
// for every request, the queue watch and retries for theirs: the lists are kept per kind until an instance is
// registered, unregistered or changes health (InstanceRegistry.version), instead of filtering every instance
// again each time.
import { requestClassifier } from '../classifier';
import type { ExecutionInstance, RequestMetadata, RequestType } from '../types';
import type { InstanceRegistry } from './registry';

export interface ServingLists {
  /** Instances that serve the request's type, whatever the model, best kind first. */
  readonly ofType: readonly ExecutionInstance[];
  /** Those of them that serve its model (all of them when it names none). */
  readonly compatible: readonly ExecutionInstance[];
  /** Those of `compatible` that are healthy. */
  readonly healthy: readonly ExecutionInstance[];
}

/** Kinds kept at most: models are named by callers, so the cache starts over rather than grow without bound. */
const MAX_KINDS = 256;

export class ServingCache {
  private readonly byType = new Map<RequestType, Map<string, ServingLists>>();
  private kinds = 0;
  private version = -1;

  constructor(private readonly registry: InstanceRegistry) {}

  /** The lists for `meta`'s type and model (the live instances: read them, never change them). */
  of(meta: Pick<RequestMetadata, 'type' | 'model'>): ServingLists {
    if (this.registry.version !== this.version || this.kinds >= MAX_KINDS) {
      this.byType.clear();
      this.kinds = 0;
      this.version = this.registry.version;
    }
    let models = this.byType.get(meta.type);
    if (!models) this.byType.set(meta.type, (models = new Map()));
    let lists = models.get(meta.model);
    if (!lists) {
      lists = computeLists(meta.type, meta.model, this.registry.all());
      models.set(meta.model, lists);
      this.kinds += 1;
    }
    return lists;
  }
}

function computeLists(type: RequestType, model: string, all: readonly ExecutionInstance[]): ServingLists {
  const ofType = Object.freeze(requestClassifier.compatibleInstances(type, all));
  const compatible = model ? Object.freeze(requestClassifier.compatibleInstances(type, all, model)) : ofType;
  return { ofType, compatible, healthy: Object.freeze(compatible.filter((i) => i.health === 'healthy')) };
}
