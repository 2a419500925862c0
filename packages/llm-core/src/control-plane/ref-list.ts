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

interface Node<K extends object, V> {
  key: K | undefined;
  value: V | undefined;
  prev: Node<K, V> | undefined;
  next: Node<K, V> | undefined;
}

export class RefList<K extends object, V = true> {
  private readonly nodes = new WeakMap<K, Node<K, V>>();
  private head: Node<K, V> | undefined = undefined;
  private tail: Node<K, V> | undefined = undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

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
    const node: Node<K, V> = { key, value, prev: this.tail, next: undefined };
    if (this.tail) this.tail.next = node;
    else this.head = node;
    this.tail = node;
    this.nodes.set(key, node);
    this.count += 1;
    return this;
  }

  delete(key: K): boolean {
    const node = this.nodes.get(key);
    if (!node) return false;
    this.nodes.delete(key);
    if (node.prev) node.prev.next = node.next;
    else this.head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.tail = node.prev;
    node.prev = node.next = undefined;
    node.key = node.value = undefined;
    this.count -= 1;
    return true;
  }

  /** The first key still in (the oldest), or undefined. */
  first(): K | undefined {
    return this.head?.key;
  }

  /** The keys in insertion order, copied: the list may change while the copy is walked. */
  keys(): K[] {
    const out: K[] = [];
    for (let n = this.head; n; n = n.next) out.push(n.key as K);
    return out;
  }

  /** The [key, value] pairs in insertion order, copied. */
  entries(): Array<[K, V]> {
    const out: Array<[K, V]> = [];
    for (let n = this.head; n; n = n.next) out.push([n.key as K, n.value as V]);
    return out;
  }

  /** Calls `fn` for each key in insertion order until it returns false; `fn` must not change the list. */
  walk(fn: (key: K, value: V) => boolean | void): void {
    for (let n = this.head; n; n = n.next) if (fn(n.key as K, n.value as V) === false) return;
  }

  clear(): void {
    for (let n = this.head; n; ) {
      const next = n.next;
      if (n.key) this.nodes.delete(n.key);
      n.prev = n.next = undefined;
      n.key = n.value = undefined;
      n = next;
    }
    this.head = this.tail = undefined;
    this.count = 0;
  }
}
