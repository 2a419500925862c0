// round_robin: cycles through instances by id. It remembers the last id served rather than an index, so the
// rotation stays fair when the candidate set changes between calls (instances full, added or removed).
import type { ExecutionInstance, RequestMetadata, RoutingStrategy } from '../types';

export class RoundRobinRouter implements RoutingStrategy {
  readonly name = 'round_robin';
  private lastId: string | undefined;

  route(_request: RequestMetadata, candidates: readonly ExecutionInstance[]): ExecutionInstance | undefined {
    if (candidates.length === 0) return undefined;
    const sorted = [...candidates].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const last = this.lastId;
    const next = (last === undefined ? undefined : sorted.find((c) => c.id > last)) ?? sorted[0];
    this.lastId = next.id;
    return next;
  }
}
