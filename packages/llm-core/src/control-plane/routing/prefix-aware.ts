// prefix_aware: route to the instance most likely to still hold the prompt's prefix in its KV cache. The
// prompt's tokens are cut into fixed blocks and each block's hash is chained onto the previous one (as vLLM's
// prefix cache does), so a hash match at block k means the whole prefix up to k is equal. The router keeps,
// per instance, the blocks it sent there, bounded by that engine's KV capacity and aged LRU as the engine's
// cache is (prefix-cache-table.ts): when the shared prefixes do not fit one engine, each settles on one, and
// a prefix an engine must have evicted is no longer counted as a hit there. Among the candidates whose load is
// within `maxLoadImbalance` of the least loaded, the one holding the longest prefix wins; with no hit, the
// least loaded does.
import { contentText, encodeTokens } from '@sage/common';
import type { ExecutionInstance, RequestMetadata, RouterMemory, RoutingStrategy } from '../types';
import { hashInts, hashString } from './hash';
import { loadRatio } from './load';
import { pickLeastLoaded, type Rng } from './load-balanced';
import { LearntPlacements } from './memory';
import { PrefixCacheTable } from './prefix-cache-table';

export interface PrefixAwareOptions {
  /** Tokens per block (default 16, vLLM's block size). */
  blockSize?: number;
  /** Blocks assumed for an instance whose KV capacity is unknown (default 7,500; known capacities come from the instance). */
  maxBlocks?: number;
  /** Shortest useful match in blocks (default 1). */
  minMatchBlocks?: number;
  /**
   * How much busier (in load ratio: outstanding / maxConcurrency) the matched instance may be than the least
   * loaded candidate and still win (default 0.5).
   */
  maxLoadImbalance?: number;
  rng?: Rng;
}

export interface PrefixMatch {
  instanceId: string;
  blocks: number;
}

/** The text whose prefix the engine caches: the bare prompt, or the conversation in order. */
export function promptText(request: RequestMetadata): string {
  if (request.prompt !== undefined) return request.prompt;
  if (request.messages) return request.messages.map((m) => `${m.role}\n${contentText(m.content)}\n`).join('');
  return '';
}

/** Chained hashes of the full token blocks of `text` (a trailing partial block is not cacheable). */
export function prefixBlockHashes(text: string, model: string, blockSize: number): number[] {
  const tokens = encodeTokens(text);
  const hashes: number[] = [];
  let prev = hashString(model); // different models never share KV blocks
  for (let start = 0; start + blockSize <= tokens.length; start += blockSize) {
    prev = hashInts(tokens.slice(start, start + blockSize), prev);
    hashes.push(prev);
  }
  return hashes;
}

export class PrefixAwareRouter implements RoutingStrategy {
  readonly name = 'prefix_aware';
  private readonly blockSize: number;
  private readonly minMatchBlocks: number;
  private readonly maxLoadImbalance: number;
  private readonly rng: Rng;
  private readonly table: PrefixCacheTable;
  private readonly learnt = new LearntPlacements((keys, id) => {
    const hashes = keys.filter((k) => /^-?\d+$/.test(k)).map(Number);
    this.table.use(id, hashes);
  });
  /** Which instance holds which prefix blocks, shared with other replicas' prefix-aware routers. */
  readonly memory: RouterMemory = this.learnt.memory;

  constructor(options: PrefixAwareOptions = {}) {
    this.blockSize = options.blockSize ?? 16;
    if (!Number.isInteger(this.blockSize) || this.blockSize < 1) throw new RangeError(`blockSize must be a positive integer, got ${options.blockSize}`);
    this.minMatchBlocks = options.minMatchBlocks ?? 1;
    this.maxLoadImbalance = options.maxLoadImbalance ?? 0.5;
    this.rng = options.rng ?? Math.random;
    const defaultBlocks = options.maxBlocks ?? 7_500;
    if (!Number.isInteger(defaultBlocks) || defaultBlocks < 1) throw new RangeError(`maxBlocks must be a positive integer, got ${options.maxBlocks}`);
    this.table = new PrefixCacheTable({ blockSize: this.blockSize, defaultBlocks });
  }

  route(request: RequestMetadata, candidates: readonly ExecutionInstance[]): ExecutionInstance | undefined {
    if (candidates.length === 0) return undefined;
    const hashes = prefixBlockHashes(promptText(request), request.model, this.blockSize);
    const chosen = this.bestMatch(hashes, candidates) ?? pickLeastLoaded(candidates, this.rng);
    if (chosen) {
      const fresh = hashes.filter((h) => !this.table.holds(chosen.id, h));
      this.table.use(chosen.id, hashes, chosen.kvCacheTokens);
      this.learnt.tell(fresh.map(String), chosen.id);
    }
    return chosen;
  }

  /** Longest remembered prefix of `request` per instance (diagnostics and tests). */
  longestMatch(request: RequestMetadata, candidates: readonly ExecutionInstance[]): PrefixMatch | undefined {
    const hashes = prefixBlockHashes(promptText(request), request.model, this.blockSize);
    let best: PrefixMatch | undefined;
    for (const c of candidates) {
      const blocks = this.table.matched(c.id, hashes);
      if (blocks > 0 && (!best || blocks > best.blocks)) best = { instanceId: c.id, blocks };
    }
    return best;
  }

  /** Blocks the router believes `instanceId` holds, and the capacity it sized that instance to. */
  cacheView(instanceId: string): { blocks: number; capacity: number } | undefined {
    return this.table.size(instanceId);
  }

  /** The longest held prefix among the candidates within the load bound; ties to the less loaded. */
  private bestMatch(hashes: number[], candidates: readonly ExecutionInstance[]): ExecutionInstance | undefined {
    const minLoad = Math.min(...candidates.map(loadRatio));
    let best: ExecutionInstance | undefined;
    let bestBlocks = 0;
    for (const c of candidates) {
      if (loadRatio(c) - minLoad > this.maxLoadImbalance) continue;
      const blocks = this.table.matched(c.id, hashes);
      if (blocks < this.minMatchBlocks) continue;
      if (blocks > bestBlocks || (blocks === bestBlocks && best && loadRatio(c) < loadRatio(best))) {
        best = c;
        bestBlocks = blocks;
      }
    }
    return best;
  }

  onInstancesChanged(instances: readonly ExecutionInstance[]): void {
    this.table.retain(new Set(instances.map((i) => i.id)));
  }
}
