// KV-cache block pool with prefix caching, after vLLM's block manager: blocks are private to a sequence
// until their prompt block is complete, then published under a chained hash so later sequences with the
// same prefix reuse them. Published blocks nobody references stay cached and are evicted LRU-first when
// fresh blocks are needed.

/** Blocks one sequence holds: published (shared, by hash) and private (counted). */
export interface BlockHolding {
  hashes: string[];
  privateBlocks: number;
}

export class KvBlockPool {
  private freeBlocks: number;
  /** hash -> reference count of published blocks. */
  private readonly refs = new Map<string, number>();
  /** Published blocks with no reference, oldest use first (Map keeps insertion order). */
  private readonly evictable = new Map<string, true>();

  constructor(readonly totalBlocks: number) {
    this.freeBlocks = totalBlocks;
  }

  /** Blocks that an allocation can take now (free plus evictable cached ones). */
  available(): number {
    return this.freeBlocks + this.evictable.size;
  }

  /** Blocks referenced by running sequences (vLLM's gpu_cache_usage numerator). */
  used(): number {
    return this.totalBlocks - this.available();
  }

  usage(): number {
    return this.used() / this.totalBlocks;
  }

  cachedBlocks(): number {
    return this.refs.size;
  }

  /** Leading prompt block hashes found in the cache (not yet referenced). */
  countHits(hashes: readonly string[]): number {
    let n = 0;
    while (n < hashes.length && this.refs.has(hashes[n] as string)) n++;
    return n;
  }

  /** Reference cached blocks by hash (caller checked they are present with countHits). */
  acquire(hashes: readonly string[], holding: BlockHolding): void {
    for (const h of hashes) {
      const r = this.refs.get(h);
      if (r === undefined) throw new Error(`block ${h} is not cached`);
      if (r === 0) this.evictable.delete(h);
      this.refs.set(h, r + 1);
      holding.hashes.push(h);
    }
  }

  /** Take n fresh blocks for a sequence, evicting cached blocks if needed. False (and nothing taken) if short. */
  allocate(n: number, holding: BlockHolding): boolean {
    if (n <= 0) return true;
    if (this.available() < n) return false;
    let need = n;
    const fromFree = Math.min(need, this.freeBlocks);
    this.freeBlocks -= fromFree;
    need -= fromFree;
    for (const h of this.evictable.keys()) {
      if (need === 0) break;
      this.evictable.delete(h);
      this.refs.delete(h);
      need--;
    }
    holding.privateBlocks += n;
    return true;
  }

  /** Turn one private block of a sequence into a cached block under `hash` (no-op if that hash is cached already). */
  publish(hash: string, holding: BlockHolding): void {
    if (holding.privateBlocks === 0 || this.refs.has(hash)) return;
    holding.privateBlocks--;
    holding.hashes.push(hash);
    this.refs.set(hash, 1);
  }

  /** Drop every block of a sequence: private ones become free, published ones stay cached until evicted. */
  release(holding: BlockHolding): void {
    this.freeBlocks += holding.privateBlocks;
    holding.privateBlocks = 0;
    for (const h of holding.hashes) {
      const r = (this.refs.get(h) ?? 1) - 1;
      this.refs.set(h, r);
      if (r === 0) {
        this.evictable.delete(h);
        this.evictable.set(h, true); // most recently used goes last
      }
    }
    holding.hashes = [];
  }

  held(holding: BlockHolding): number {
    return holding.hashes.length + holding.privateBlocks;
  }
}
