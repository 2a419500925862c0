// An ordered set with ranks (a treap with subtree sizes): insert, delete, "how many are before this one" and
// "the first k" each in O(log n) (plus k). The control plane keeps its queue in the policy's order with it, so
// that neither admitting, refusing nor dispatching a request costs time in proportion to the queue.

interface Node<T> {
  item: T;
  prio: number;
  size: number;
  left?: Node<T>;
  right?: Node<T>;
}

const sizeOf = <T>(n: Node<T> | undefined) => (n ? n.size : 0);
const same = <T>(item: T): T => item;

function update<T>(n: Node<T>): Node<T> {
  n.size = 1 + sizeOf(n.left) + sizeOf(n.right);
  return n;
}

/** `T`: the elements; `K`: what the order compares (elements, and probes that are not elements). */
export class OrderedSet<T extends K, K = T> {
  private root: Node<T> | undefined;
  // A fixed-seed generator: the shape is random enough for balance and the same in every run.
  private seed = 0x2545f491;

  /** `compare` must be a total order (break ties by a unique sequence number). */
  constructor(private readonly compare: (a: K, b: K) => number) {}

  get size(): number {
    return sizeOf(this.root);
  }

  private random(): number {
    this.seed ^= this.seed << 13;
    this.seed ^= this.seed >>> 17;
    this.seed ^= this.seed << 5;
    return this.seed >>> 0;
  }

  /** The (≥ item) part of the last split: split() returns one part and leaves the other here, so it allocates no pairs. */
  private rest: Node<T> | undefined;

  /** Splits into (< item), returned, and (≥ item), left in `rest`. */
  private split(n: Node<T> | undefined, item: K): Node<T> | undefined {
    if (!n) {
      this.rest = undefined;
      return undefined;
    }
    if (this.compare(n.item, item) < 0) {
      n.right = this.split(n.right, item);
      return update(n);
    }
    const l = this.split(n.left, item);
    n.left = this.rest;
    this.rest = update(n);
    return l;
  }

  private merge(a: Node<T> | undefined, b: Node<T> | undefined): Node<T> | undefined {
    if (!a) return b;
    if (!b) return a;
    if (a.prio > b.prio) {
      a.right = this.merge(a.right, b);
      return update(a);
    }
    b.left = this.merge(a, b.left);
    return update(b);
  }

  /**
   * Walks down from the root while the nodes outrank the new one (counting it in their sizes), then splits the
   * subtree found there around it: the treap a split of the whole tree and two merges would make, for a walk and a
   * split of the (small, expected O(1)) subtree under the new node.
   */
  insert(item: T): void {
    // Every field from the start: nodes of one shape keep the walks' property loads monomorphic.
    const node: Node<T> = { item, prio: this.random(), size: 1, left: undefined, right: undefined };
    let parent: Node<T> | undefined;
    let toLeft = false;
    let n = this.root;
    // On a tie of priority it goes under the node already there (a treap either way).
    while (n && n.prio >= node.prio) {
      n.size += 1;
      parent = n;
      // Where split() sends it: elements before `item` to its left, the rest (equal ones too) to its right.
      toLeft = !(this.compare(n.item, item) < 0);
      n = toLeft ? n.left : n.right;
    }
    node.left = this.split(n, item);
    node.right = this.rest;
    this.rest = undefined;
    update(node);
    if (!parent) this.root = node;
    else if (toLeft) parent.left = node;
    else parent.right = node;
  }

  /** The nodes above the one delete() takes out (their sizes drop by one once it is found). */
  private readonly path: Node<T>[] = [];

  /** Removes the element equal to `item` (by compare); false when there is none. */
  delete(item: K): boolean {
    const path = this.path;
    let n = this.root;
    let c = 0;
    while (n) {
      c = this.compare(item, n.item);
      if (c === 0) break;
      path.push(n);
      n = c < 0 ? n.left : n.right;
    }
    if (!n) {
      path.length = 0;
      return false;
    }
    const rest = this.merge(n.left, n.right);
    // The node is garbage now: it points nowhere (a dead node promoted to the old generation would keep what it
    // points to alive through young-generation collections, and that in turn the next: see ref-list.ts).
    n.left = n.right = undefined;
    const parent = path.length > 0 ? path[path.length - 1]! : undefined;
    if (!parent) this.root = rest;
    else if (parent.left === n) parent.left = rest;
    else parent.right = rest;
    for (let i = 0; i < path.length; i++) path[i]!.size -= 1;
    path.length = 0;
    return true;
  }

  /** Elements strictly before `probe` in the order (probe need not be in the set). */
  countBefore(probe: K): number {
    let n = this.root;
    let count = 0;
    while (n) {
      if (this.compare(n.item, probe) < 0) {
        count += sizeOf(n.left) + 1;
        n = n.right;
      } else {
        n = n.left;
      }
    }
    return count;
  }

  /** The first `k` elements in order. */
  first(k: number): T[] {
    const out: T[] = [];
    this.firstInto(k, out, same);
    return out;
  }

  /** The walk's path, kept between calls (emptied by each walk that ends). */
  private readonly stack: Node<T>[] = [];

  /** Appends `pick` of each of the first `k` elements, in order, to `out` (a dispatch's window: no array per call). */
  firstInto<U>(k: number, out: U[], pick: (item: T) => U): void {
    const stack = this.stack;
    let taken = 0;
    let n = this.root;
    while ((n || stack.length > 0) && taken < k) {
      while (n) {
        stack.push(n);
        n = n.left;
      }
      const top = stack.pop()!;
      out.push(pick(top.item));
      taken += 1;
      n = top.right;
    }
    stack.length = 0;
  }

  /** Every element in order (O(n): for status and tests only). */
  all(): T[] {
    return this.first(Infinity);
  }
}
