// prefix_aware: route to the instance most likely to still hold the prompt's prefix in its KV cache. The
// prompt's tokens are cut into fixed blocks and each block's hash is chained onto the previous one (as vLLM's
// prefix cache does), so a hash match at block k means the whole prefix up to k is equal. The router remembers
// which instance last served each block (bounded LRU) and prefers the longest match, unless that instance is
// too much busier than the least loaded candidate; then it falls back to load_balanced.
import { contentText, encodeTokens } from '@sage/common';
import type { ExecutionInstance, RequestMetadata, RouterMemory, RoutingStrategy } from '../types';
import { hashInts, hashString } from './hash';
import { loadRatio } from './load';
import { pickLeastLoaded, type Rng } from './load-balanced';
import { BoundedLru } from './lru';
import { LearntPlacements } from './memory';

export interface PrefixAwareOptions {
  /** Tokens per block (default 16, vLLM's block size). */
  blockSize?: number;
  /** Prefix blocks remembered across all instances (default 100,000). */
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
  private readonly blocks: BoundedLru<number, string>;
  private readonly learnt = new LearntPlacements((keys, id) => {
    for (const k of keys) if (/^-?\d+$/.test(k)) this.blocks.set(Number(k), id);
  });
  /** Which instance holds which prefix blocks, shared with other replicas' prefix-aware routers. */
  readonly memory: RouterMemory = this.learnt.memory;

  constructor(options: PrefixAwareOptions = {}) {
    this.blockSize = options.blockSize ?? 16;
    if (!Number.isInteger(this.blockSize) || this.blockSize < 1) throw new RangeError(`blockSize must be a positive integer, got ${options.blockSize}`);
    this.minMatchBlocks = options.minMatchBlocks ?? 1;
    this.maxLoadImbalance = options.maxLoadImbalance ?? 0.5;
    this.rng = options.rng ?? Math.random;
    this.blocks = new BoundedLru(options.maxBlocks ?? 100_000);
  }

  route(request: RequestMetadata, candidates: readonly ExecutionInstance[]): ExecutionInstance | undefined {
    if (candidates.length === 0) return undefined;
    const hashes = prefixBlockHashes(promptText(request), request.model, this.blockSize);
    const chosen = this.bestMatch(hashes, candidates) ?? pickLeastLoaded(candidates, this.rng);
    if (chosen) {
      const moved: string[] = [];
      for (const h of hashes) {
        if (this.blocks.peek(h) !== chosen.id) moved.push(String(h));
        this.blocks.set(h, chosen.id);
      }
      this.learnt.tell(moved, chosen.id);
    }
    return chosen;
  }

  /** Longest remembered prefix of `request` per instance (diagnostics and tests). */
  longestMatch(request: RequestMetadata, candidates: readonly ExecutionInstance[]): PrefixMatch | undefined {
    const hashes = prefixBlockHashes(promptText(request), request.model, this.blockSize);
    const ids = new Set(candidates.map((c) => c.id));
    for (let k = hashes.length - 1; k >= 0; k--) {
      const id = this.blocks.peek(hashes[k]);
      if (id !== undefined && ids.has(id)) return { instanceId: id, blocks: k + 1 };
    }
    return undefined;
  }

  private bestMatch(hashes: number[], candidates: readonly ExecutionInstance[]): ExecutionInstance | undefined {
    const byId = new Map(candidates.map((c) => [c.id, c]));
    const minLoad = Math.min(...candidates.map(loadRatio));
    // Deepest block first: chained hashes make a deep hit imply the whole prefix before it.
    for (let k = hashes.length - 1; k >= this.minMatchBlocks - 1; k--) {
      const id = this.blocks.peek(hashes[k]);
      const inst = id === undefined ? undefined : byId.get(id);
      if (inst && loadRatio(inst) - minLoad <= this.maxLoadImbalance) return inst;
    }
    return undefined;
  }

  onInstancesChanged(instances: readonly ExecutionInstance[]): void {
    const ids = new Set(instances.map((i) => i.id));
    this.blocks.retain((id) => ids.has(id));
  }
}
