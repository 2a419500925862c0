// The router's picture of each engine's prefix cache: per instance, the prompt blocks (chained hashes) it was
// last sent, kept least-recently-used first and bounded by that engine's KV capacity in blocks — from its
// /metrics (vllm:cache_config_info) or its registration — so a block is forgotten about when the engine would
// have evicted it too (vLLM's prefix cache frees unused blocks LRU). Without a known capacity, a default.

export interface PrefixCacheTableOptions {
  /** Tokens per block (the engine's block size; default 16). */
  blockSize: number;
  /** Blocks assumed for an instance whose capacity is unknown (default 7,500, vLLM-sized). */
  defaultBlocks: number;
}

class InstanceBlocks {
  // Map keeps insertion order: re-inserting on use moves a block to the young end.
  readonly blocks = new Map<number, true>();

  constructor(public capacity: number) {}

  touch(hash: number): void {
    this.blocks.delete(hash);
    this.blocks.set(hash, true);
  }

  trim(): void {
    while (this.blocks.size > this.capacity) {
      const oldest = this.blocks.keys().next();
      if (oldest.done) break;
      this.blocks.delete(oldest.value);
    }
  }
}

export class PrefixCacheTable {
  private readonly instances = new Map<string, InstanceBlocks>();

  constructor(private readonly opts: PrefixCacheTableOptions) {}

  /** The capacity in blocks this table gives an instance with `kvCacheTokens` (undefined: unknown). */
  capacityFor(kvCacheTokens: number | undefined): number {
    return kvCacheTokens !== undefined && kvCacheTokens > 0 ? Math.max(1, Math.floor(kvCacheTokens / this.opts.blockSize)) : this.opts.defaultBlocks;
  }

  /** `kvCacheTokens` undefined keeps the capacity an instance already has (what other replicas tell comes without it). */
  private of(id: string, kvCacheTokens?: number): InstanceBlocks {
    const capacity = this.capacityFor(kvCacheTokens);
    let t = this.instances.get(id);
    if (!t) this.instances.set(id, (t = new InstanceBlocks(capacity)));
    else if (kvCacheTokens !== undefined && t.capacity !== capacity) {
      t.capacity = capacity;
      t.trim();
    }
    return t;
  }

  /** Leading blocks of `hashes` the instance is believed to still hold (a prefix cache hit needs every block before). */
  matched(id: string, hashes: readonly number[]): number {
    const t = this.instances.get(id);
    if (!t) return 0;
    let n = 0;
    while (n < hashes.length && t.blocks.has(hashes[n]!)) n++;
    return n;
  }

  holds(id: string, hash: number): boolean {
    return this.instances.get(id)?.blocks.has(hash) ?? false;
  }

  /** The instance is sent a prompt with these blocks: it will hold them, the youngest, evicting its oldest. */
  use(id: string, hashes: readonly number[], kvCacheTokens?: number): void {
    const t = this.of(id, kvCacheTokens);
    for (const h of hashes) t.touch(h);
    t.trim();
  }

  /** Blocks believed held by the instance, and its capacity. */
  size(id: string): { blocks: number; capacity: number } | undefined {
    const t = this.instances.get(id);
    return t && { blocks: t.blocks.size, capacity: t.capacity };
  }

  retain(ids: ReadonlySet<string>): void {
    for (const id of [...this.instances.keys()]) if (!ids.has(id)) this.instances.delete(id);
  }
}
