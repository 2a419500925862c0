// An insertion-ordered map keyed by object, for what the control plane holds per request while it lives (the queue,
// the running calls, timers): set, get, has and delete in O(1), walked in insertion order.
//
// Not a Map or Set on purpose. V8 does not free a Map's or Set's old hash table when a rehash replaces it: the old
// table keeps its entries and a pointer to its successor (for iterators alive across the rehash). A collection that
// requests pass through (an entry added and deleted per request) rehashes every few dozen requests, and once one old
// table sits in the old generation (every full collection promotes the live one) the chain of its successors, and
// every request they still point to, outlives each young-generation collection: under load nearly every request's
// objects were promoted (~1 MB per scavenge instead of ~50 KB), and the old generation had to be collected every
// second or two. Here a key finds its node through a WeakMap (whose tables keep no successor and hold nothing for a
// dead key), and a node that leaves forgets its neighbours, key and value, so nothing gone keeps anything alive.

import { LinkedOrder, type LinkedEntry } from './linked-order';

type Node<K extends object, V> = LinkedEntry<K, V, Node<K, V>>;

export class RefList<K extends object, V = true> extends LinkedOrder<K, V, Node<K, V>> {
  private readonly nodes = new WeakMap<K, Node<K, V>>();

  has(key: K): boolean {
    return this.nodes.has(key);
  }

  get(key: K): V | undefined {
    return this.nodes.get(key)?.value;
  }

  /** Adds `key` at the end, or changes its value where it is (as Map.set does). */
  set(key: K, value: V): this {
    const known = this.nodes.get(key);
    if (known) {
      known.value = value;
      return this;
    }
    const node: Node<K, V> = { key, value, prev: undefined, next: undefined };
    this.append(node);
    this.nodes.set(key, node);
    return this;
  }

  delete(key: K): boolean {
    const node = this.nodes.get(key);
    if (!node) return false;
    this.nodes.delete(key);
    this.unlink(node);
    return true;
  }

  clear(): void {
    this.unlinkAll((key) => this.nodes.delete(key));
  }
}
