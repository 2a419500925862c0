// Virtual capacity accounting inside one scheduling call: the snapshot is never mutated; instead every
// placement is counted here, and the instances handed to routers and estimators are copies that carry the
// extra active requests, so the second placement in a call sees the first.
import { freeSlots, withExtraActive } from '../routing/load';
import type { ExecutionInstance } from '../types';

export class CapacityView {
  private readonly taken = new Map<string, number>();
  private readonly byId: Map<string, ExecutionInstance>;

  constructor(instances: readonly ExecutionInstance[]) {
    this.byId = new Map();
    for (const i of instances) this.byId.set(i.id, i);
  }

  /** Slots still free on `id` in this call. */
  free(id: string): number {
    const inst = this.byId.get(id);
    return inst ? Math.max(0, freeSlots(inst) - (this.taken.get(id) ?? 0)) : 0;
  }

  /**
   * The free slots of every instance together: summed once, then lowered by each placement (take()), rather than
   * summed again over every instance for each request a placement loop looks at.
   */
  totalFree(): number {
    if (this.total === undefined) {
      let n = 0;
      for (const id of this.byId.keys()) n += this.free(id);
      this.total = n;
    }
    return this.total;
  }

  private total: number | undefined;

  /**
   * One copy per instance that took placements, kept up to date here: each further placement on it would otherwise
   * copy the instance again (a dispatch run placing a burst on one instance made one copy per request).
   */
  private views: Map<string, { base: ExecutionInstance; view: ExecutionInstance }> | undefined;

  /**
   * The instance as it will be once this call's placements land. A copy is refreshed in place by the next view()
   * of the same instance in this call: read it before asking again (every placement loop does).
   */
  view(instance: ExecutionInstance): ExecutionInstance {
    const base = this.byId.get(instance.id) ?? instance;
    const extra = this.taken.get(instance.id) ?? 0;
    if (extra === 0) return base;
    const kept = this.views?.get(instance.id);
    if (kept && kept.base === base) {
      kept.view.load.activeRequests = base.load.activeRequests + extra;
      return kept.view;
    }
    const view = withExtraActive(base, extra);
    (this.views ??= new Map()).set(instance.id, { base, view });
    return view;
  }

  /** Views of those of `instances` that still have a free slot, order kept. */
  available(instances: readonly ExecutionInstance[]): ExecutionInstance[] {
    const out: ExecutionInstance[] = [];
    for (const i of instances) if (this.free(i.id) > 0) out.push(this.view(i));
    return out;
  }

  /** Views of every known instance (to hand a nested policy a snapshot that includes this call's placements). */
  all(): ExecutionInstance[] {
    return [...this.byId.values()].map((i) => this.view(i));
  }

  take(id: string): void {
    const before = this.free(id);
    if (before <= 0) throw new Error(`no free slot on instance ${id}`); // a policy bug, never a runtime condition
    this.taken.set(id, (this.taken.get(id) ?? 0) + 1);
    // One fewer, or what was left when a snapshot counted a fraction of a slot free.
    if (this.total !== undefined) this.total -= before - Math.max(0, before - 1);
  }
}
