// locality: consistent hashing of model+user onto a ring of virtual nodes, so the same user of a model keeps
// landing on the same instance and adding or removing one of n instances remaps only about 1/n of the keys.
import type { ExecutionInstance, RequestMetadata, RoutingStrategy } from '../types';
import { hashString } from './hash';
import { pickLeastLoaded, type Rng } from './load-balanced';

export interface LocalityOptions {
  /** Virtual nodes per instance (default 160): more nodes, more even key shares. */
  virtualNodes?: number;
  rng?: Rng;
}

export function localityKey(request: RequestMetadata): string | undefined {
  const who = request.userId ?? request.sessionId;
  return who === undefined ? undefined : `${request.model}\u0000${who}`;
}

export class HashRing {
  private points: { hash: number; id: string }[] = [];
  private ids = new Set<string>();

  constructor(private readonly virtualNodes: number) {
    if (!Number.isInteger(virtualNodes) || virtualNodes < 1) throw new RangeError(`virtualNodes must be a positive integer, got ${virtualNodes}`);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  get size(): number {
    return this.ids.size;
  }

  /** Replaces the ring's members. Each member's points depend only on its id, so unchanged members keep their arcs. */
  setMembers(ids: Iterable<string>): void {
    this.ids = new Set(ids);
    const points: { hash: number; id: string }[] = [];
    for (const id of this.ids) for (let v = 0; v < this.virtualNodes; v++) points.push({ hash: hashString(`${id}#${v}`), id });
    points.sort((a, b) => a.hash - b.hash || (a.id < b.id ? -1 : 1));
    this.points = points;
  }

  add(id: string): void {
    if (!this.ids.has(id)) this.setMembers([...this.ids, id]);
  }

  /** Members in ring order starting at `key`'s position (each once): the first acceptable one owns the key. */
  *walk(key: string): Generator<string> {
    const n = this.points.length;
    if (n === 0) return;
    const h = hashString(key);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid].hash < h) lo = mid + 1;
      else hi = mid;
    }
    const seen = new Set<string>();
    for (let k = 0; k < n && seen.size < this.ids.size; k++) {
      const id = this.points[(lo + k) % n].id;
      if (!seen.has(id)) {
        seen.add(id);
        yield id;
      }
    }
  }

  /** Owner of `key` among all members. */
  lookup(key: string): string | undefined {
    for (const id of this.walk(key)) return id;
    return undefined;
  }
}

export class LocalityRouter implements RoutingStrategy {
  readonly name = 'locality';
  private readonly ring: HashRing;
  private readonly rng: Rng;

  constructor(options: LocalityOptions = {}) {
    this.ring = new HashRing(options.virtualNodes ?? 160);
    this.rng = options.rng ?? Math.random;
  }

  route(request: RequestMetadata, candidates: readonly ExecutionInstance[]): ExecutionInstance | undefined {
    const key = localityKey(request);
    if (key === undefined || candidates.length === 0) return pickLeastLoaded(candidates, this.rng);
    // Instances never announced through onInstancesChanged still join the ring on first sight.
    for (const c of candidates) this.ring.add(c.id);
    const byId = new Map(candidates.map((c) => [c.id, c]));
    // Walk clockwise past owners that are not candidates right now (full or unhealthy): the next arc takes over.
    for (const id of this.ring.walk(key)) {
      const hit = byId.get(id);
      if (hit) return hit;
    }
    return pickLeastLoaded(candidates, this.rng);
  }

  /** The instance owning a request's key on the full ring (ignores capacity). */
  owner(request: RequestMetadata): string | undefined {
    const key = localityKey(request);
    return key === undefined ? undefined : this.ring.lookup(key);
  }

  onInstancesChanged(instances: readonly ExecutionInstance[]): void {
    this.ring.setMembers(instances.map((i) => i.id));
  }
}
