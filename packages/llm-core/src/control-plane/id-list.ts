// An insertion-ordered map keyed by string (a request id), for what the control plane keeps per request under its
// id while it lives (a prediction to score when the request ends): set, get, has and delete in O(1), oldest first.
//
// Not a Map, for the reason RefList is not one (ref-list.ts): a Map that requests pass through keeps its replaced
// hash tables chained to their successors, with their entries, and under load that chain makes every request's
// objects outlive young collections. A WeakMap takes no string keys, so this is a hash table of its own: one array
// of slots (linear probing, a deletion moves the entries after it back rather than leaving a marker) that is
// replaced only to grow, and a replaced array points at nothing newer. An entry that leaves forgets its
// neighbours, key and value, so nothing gone keeps anything alive.
import { LinkedOrder, type LinkedEntry } from './linked-order';

interface Entry<V> extends LinkedEntry<string, V, Entry<V>> {
  hash: number;
}

/** Per process, so that which ids collide cannot be worked out in advance. */
const SEED = Math.floor(Math.random() * 2 ** 31);

/**
 * The last key hashed and its hash. A request's id is looked up several times in a row (the queue, the queue index,
 * the wait calibration and the estimator each keep it when it is queued, dispatched or leaves), so most lookups
 * ask for the id hashed just before: comparing it with the last one (nearly always the very same string) is cheaper
 * than hashing it again.
 */
let lastKey = '';
let lastHash = hashKey('');

function hashOf(key: string): number {
  if (key === lastKey) return lastHash;
  lastHash = hashKey(key);
  lastKey = key;
  return lastHash;
}

/** FNV-1a over the UTF-16 units, then murmur3's finalizer so that the low bits (the slot) depend on every unit. */
function hashKey(key: string): number {
  let h = (0x811c9dc5 ^ SEED) >>> 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class IdList<V> extends LinkedOrder<string, V, Entry<V>> {
  /** A power of two of slots, at most half full. */
  private slots: Array<Entry<V> | undefined>;
  private mask: number;

  constructor(capacity = 64) {
    super();
    let n = 8;
    while (n < capacity * 2) n *= 2;
    this.slots = new Array<Entry<V> | undefined>(n).fill(undefined);
    this.mask = n - 1;
  }

  has(key: string): boolean {
    return this.slotOf(key, hashOf(key)) >= 0;
  }

  get(key: string): V | undefined {
    const i = this.slotOf(key, hashOf(key));
    return i >= 0 ? (this.slots[i] as Entry<V>).value : undefined;
  }

  /** Adds `key` at the end, or changes its value where it is (as Map.set does). */
  set(key: string, value: V): this {
    const hash = hashOf(key);
    let i = hash & this.mask;
    for (let e = this.slots[i]; e; e = this.slots[i]) {
      if (e.hash === hash && e.key === key) {
        e.value = value;
        return this;
      }
      i = (i + 1) & this.mask;
    }
    const entry: Entry<V> = { key, hash, value, prev: undefined, next: undefined };
    this.slots[i] = entry;
    this.append(entry);
    if (this.size * 2 > this.slots.length) this.grow();
    return this;
  }

  /** set(), returning the value `key` had before (undefined if it was not in): one lookup where get and set cost two. */
  swap(key: string, value: V): V | undefined {
    const hash = hashOf(key);
    let i = hash & this.mask;
    for (let e = this.slots[i]; e; e = this.slots[i]) {
      if (e.hash === hash && e.key === key) {
        const before = e.value;
        e.value = value;
        return before;
      }
      i = (i + 1) & this.mask;
    }
    const entry: Entry<V> = { key, hash, value, prev: undefined, next: undefined };
    this.slots[i] = entry;
    this.append(entry);
    if (this.size * 2 > this.slots.length) this.grow();
    return undefined;
  }

  delete(key: string): boolean {
    const i = this.slotOf(key, hashOf(key));
    if (i < 0) return false;
    this.remove(i);
    return true;
  }

  /** Deletes `key` and returns its value (undefined if it was not in). */
  take(key: string): V | undefined {
    const i = this.slotOf(key, hashOf(key));
    return i >= 0 ? this.remove(i) : undefined;
  }

  /** Deletes the oldest entries until at most `max` remain (a bound on what is kept). */
  keepNewest(max: number): void {
    while (this.size > max) this.delete(this.first() as string);
  }

  clear(): void {
    this.unlinkAll();
    this.slots.fill(undefined);
  }

  /** Takes the entry in slot `i` out of the table and the order, and returns its value. */
  private remove(i: number): V | undefined {
    const entry = this.slots[i] as Entry<V>;
    this.vacate(i);
    return this.unlink(entry);
  }

  private slotOf(key: string, hash: number): number {
    let i = hash & this.mask;
    for (let e = this.slots[i]; e; e = this.slots[i]) {
      if (e.hash === hash && e.key === key) return i;
      i = (i + 1) & this.mask;
    }
    return -1;
  }

  /** Empties slot `i`, moving back each entry after it (up to a free slot) that may not be found past the gap. */
  private vacate(i: number): void {
    const { slots, mask } = this;
    let gap = i;
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const e = slots[j];
      if (!e) break;
      const home = e.hash & mask;
      // `e` stays if its home lies cyclically in (gap, j]; else the gap would hide it from a lookup.
      const stays = gap <= j ? home > gap && home <= j : home > gap || home <= j;
      if (!stays) {
        slots[gap] = e;
        gap = j;
      }
    }
    slots[gap] = undefined;
  }

  /** Twice the slots; the old array is dropped whole. */
  private grow(): void {
    const n = this.slots.length * 2;
    const slots = new Array<Entry<V> | undefined>(n).fill(undefined);
    const mask = n - 1;
    for (let e = this.head; e; e = e.next) {
      let i = e.hash & mask;
      while (slots[i]) i = (i + 1) & mask;
      slots[i] = e;
    }
    this.slots = slots;
    this.mask = mask;
  }
}
