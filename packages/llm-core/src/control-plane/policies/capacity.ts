// Virtual capacity accounting inside one scheduling call: the snapshot is never mutated; instead every
// placement is counted here, and the instances handed to routers and estimators are copies that carry the
// extra active requests, so the second placement in a call sees the first.
import { freeSlots, withExtraActive } from '../routing/load';
import type { ExecutionInstance } from '../types';

/** Up to this many instances, an id is found by a scan of the list (cheaper than a Map made for each call). */
const SCAN_MAX = 8;

export class CapacityView {
  /** Each distinct id once, where it first appears, with the last instance given under it (as Map.set keeps them). */
  private readonly ids: string[] = [];
  private readonly insts: ExecutionInstance[] = [];
  /** Placements made in this call, per id (same positions). */
  private readonly taken: number[] = [];
  /** Position by id, for snapshots of more than SCAN_MAX instances. */
  private readonly positions: Map<string, number> | undefined;

  constructor(instances: readonly ExecutionInstance[]) {
    if (instances.length > SCAN_MAX) this.positions = new Map();
    for (const i of instances) {
      const k = this.position(i.id);
      if (k >= 0) {
        this.insts[k] = i;
        continue;
      }
      this.positions?.set(i.id, this.ids.length);
      this.ids.push(i.id);
      this.insts.push(i);
      this.taken.push(0);
    }
  }

  private position(id: string): number {
    if (this.positions) return this.positions.get(id) ?? -1;
    const ids = this.ids;
    for (let k = 0; k < ids.length; k++) if (ids[k] === id) return k;
    return -1;
  }

  private freeAt(k: number): number {
    return Math.max(0, freeSlots(this.insts[k]!) - this.taken[k]!);
  }

  /** Slots still free on `id` in this call. */
  free(id: string): number {
    const k = this.position(id);
    return k >= 0 ? this.freeAt(k) : 0;
  }

  /**
   * The free slots of every instance together: summed once, then lowered by each placement (take()), rather than
   * summed again over every instance for each request a placement loop looks at.
   */
  totalFree(): number {
    if (this.total === undefined) {
      let n = 0;
      for (let k = 0; k < this.ids.length; k++) n += this.freeAt(k);
      this.total = n;
    }
    return this.total;
  }

  private total: number | undefined;

  /**
   * One copy per instance that took placements, kept up to date here: each further placement on it would otherwise
   * copy the instance again (a dispatch run placing a burst on one instance made one copy per request).
   */
  private views: Array<ExecutionInstance | undefined> | undefined;

  /**
   * The instance as it will be once this call's placements land. A copy is refreshed in place by the next view()
   * of the same instance in this call: read it before asking again (every placement loop does).
   */
  view(instance: ExecutionInstance): ExecutionInstance {
    const k = this.position(instance.id);
    return k >= 0 ? this.viewAt(k) : instance;
  }

  private viewAt(k: number): ExecutionInstance {
    const base = this.insts[k]!;
    const extra = this.taken[k]!;
    if (extra === 0) return base;
    const kept = this.views?.[k];
    if (kept) {
      kept.load.activeRequests = base.load.activeRequests + extra;
      return kept;
    }
    const view = withExtraActive(base, extra);
    (this.views ??= [])[k] = view;
    return view;
  }

  /** Views of those of `instances` that still have a free slot, order kept. */
  available(instances: readonly ExecutionInstance[]): ExecutionInstance[] {
    const out: ExecutionInstance[] = [];
    for (const i of instances) {
      const k = this.position(i.id);
      if (k >= 0 && this.freeAt(k) > 0) out.push(this.viewAt(k));
    }
    return out;
  }

  /** Views of every known instance (to hand a nested policy a snapshot that includes this call's placements). */
  all(): ExecutionInstance[] {
    return this.insts.map((_, k) => this.viewAt(k));
  }

  take(id: string): void {
    const k = this.position(id);
    const before = k >= 0 ? this.freeAt(k) : 0;
    if (before <= 0) throw new Error(`no free slot on instance ${id}`); // a policy bug, never a runtime condition
    this.taken[k]! += 1;
    // One fewer, or what was left when a snapshot counted a fraction of a slot free.
    if (this.total !== undefined) this.total -= before - Math.max(0, before - 1);
  }
}
