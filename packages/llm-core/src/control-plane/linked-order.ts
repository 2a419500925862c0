// The insertion order shared by RefList (keyed by object) and IdList (keyed by request id): entries linked oldest to
// newest, appended in O(1) and taken out in O(1). An entry that leaves forgets its neighbours, key and value, so a
// departed entry — however long the garbage collector takes to free it — keeps nothing else alive (ref-list.ts).

/** One entry; `E` is the subclass's own entry type (IdList's carries its hash). */
export interface LinkedEntry<K, V, E extends LinkedEntry<K, V, E>> {
  key: K | undefined;
  value: V | undefined;
  prev: E | undefined;
  next: E | undefined;
}

export abstract class LinkedOrder<K, V, E extends LinkedEntry<K, V, E>> {
  protected head: E | undefined = undefined;
  protected tail: E | undefined = undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The first key still in (the oldest), or undefined. */
  first(): K | undefined {
    return this.head?.key;
  }

  /** The keys in insertion order, copied: the list may change while the copy is walked. */
  keys(): K[] {
    const out: K[] = [];
    for (let e = this.head; e; e = e.next) out.push(e.key as K);
    return out;
  }

  /** The values in insertion order, copied. */
  values(): V[] {
    const out: V[] = [];
    for (let e = this.head; e; e = e.next) out.push(e.value as V);
    return out;
  }

  /** The [key, value] pairs in insertion order, copied. */
  entries(): Array<[K, V]> {
    const out: Array<[K, V]> = [];
    for (let e = this.head; e; e = e.next) out.push([e.key as K, e.value as V]);
    return out;
  }

  /** Calls `fn` for each entry in insertion order until it returns false; `fn` must not change the list. */
  walk(fn: (key: K, value: V) => boolean | void): void {
    for (let e = this.head; e; e = e.next) if (fn(e.key as K, e.value as V) === false) return;
  }

  /** Links `entry` in as the newest. */
  protected append(entry: E): void {
    entry.prev = this.tail;
    entry.next = undefined;
    if (this.tail) this.tail.next = entry;
    else this.head = entry;
    this.tail = entry;
    this.count += 1;
  }

  /** Takes `entry` out of the order, makes it forget everything, and returns its value. */
  protected unlink(entry: E): V | undefined {
    const value = entry.value;
    if (entry.prev) entry.prev.next = entry.next;
    else this.head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else this.tail = entry.prev;
    entry.prev = entry.next = undefined;
    entry.key = entry.value = undefined;
    this.count -= 1;
    return value;
  }

  /** Empties the order, calling `each` with every entry's key first; every entry forgets everything. */
  protected unlinkAll(each?: (key: K) => void): void {
    for (let e = this.head; e; ) {
      const next = e.next;
      if (each && e.key !== undefined) each(e.key);
      e.prev = e.next = undefined;
      e.key = e.value = undefined;
      e = next;
    }
    this.head = this.tail = undefined;
    this.count = 0;
  }
}
