// A bounded map that forgets the least recently used key first (kept in insertion order; re-inserting on access
// moves a key to the back). Routing state must never grow without bound.
//
// Not a Map: every routed request moves its key to the back (a delete and a set), and a Map that entries pass
// through keeps its replaced hash tables, with their keys, alive through young collections (id-list.ts).
import { IdList } from '../id-list';

export class BoundedLru<K extends string, V> {
  private readonly list = new IdList<V>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`LRU capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.list.size;
  }

  get(key: K): V | undefined {
    const value = this.list.get(key);
    if (value === undefined) return undefined;
    this.list.delete(key);
    this.list.set(key, value);
    return value;
  }

  /** Read without refreshing recency. */
  peek(key: K): V | undefined {
    return this.list.get(key);
  }

  set(key: K, value: V): void {
    this.list.delete(key);
    this.list.set(key, value);
    this.list.keepNewest(this.capacity);
  }

  delete(key: K): void {
    this.list.delete(key);
  }

  /** Drop every entry whose value fails `keep` (e.g. mappings to removed instances). */
  retain(keep: (value: V, key: K) => boolean): void {
    for (const k of this.list.keys()) if (!keep(this.list.get(k) as V, k as K)) this.list.delete(k);
  }
}
