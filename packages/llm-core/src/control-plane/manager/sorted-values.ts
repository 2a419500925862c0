// A sorted multiset of numbers with order statistics, kept in sorted blocks of bounded size: adding, removing,
// the k-th smallest and counting below a value cost O(√n)-ish (a scan of block sizes plus a binary search),
// where sorting a copy of the samples for each question cost O(n log n) and grew with the traffic.
const BLOCK = 256;

function lowerBound(a: readonly number[], v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((a[mid] as number) < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(a: readonly number[], v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((a[mid] as number) <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class SortedValues {
  private readonly blocks: number[][] = [];
  private count = 0;

  /** The values of `values` (any order; not kept), sorted in one pass rather than added one at a time. */
  static of(values: readonly number[]): SortedValues {
    const s = new SortedValues();
    const all = Float64Array.from(values).sort();
    for (let i = 0; i < all.length; i += BLOCK) s.blocks.push(Array.from(all.subarray(i, i + BLOCK)));
    s.count = all.length;
    return s;
  }

  get size(): number {
    return this.count;
  }

  /** The first block whose largest value is ≥ v (the last block when none is). */
  private blockFor(v: number): number {
    let lo = 0;
    let hi = this.blocks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const b = this.blocks[mid] as number[];
      if ((b[b.length - 1] as number) < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  add(v: number): void {
    this.count += 1;
    if (this.blocks.length === 0) {
      this.blocks.push([v]);
      return;
    }
    const i = this.blockFor(v);
    const b = this.blocks[i] as number[];
    b.splice(upperBound(b, v), 0, v);
    if (b.length > 2 * BLOCK) this.blocks.splice(i + 1, 0, b.splice(BLOCK));
  }

  /** Removes one occurrence of v; false when there is none. */
  remove(v: number): boolean {
    if (this.blocks.length === 0) return false;
    for (let i = this.blockFor(v); i < this.blocks.length; i++) {
      const b = this.blocks[i] as number[];
      const at = lowerBound(b, v);
      if (at < b.length) {
        if (b[at] !== v) return false;
        b.splice(at, 1);
        if (b.length === 0) this.blocks.splice(i, 1);
        this.count -= 1;
        return true;
      }
    }
    return false;
  }

  /** The k-th smallest value (0-based). */
  kth(k: number): number {
    for (const b of this.blocks) {
      if (k < b.length) return b[k] as number;
      k -= b.length;
    }
    return NaN;
  }

  /** How many values are < v. */
  countBelow(v: number): number {
    let n = 0;
    for (const b of this.blocks) {
      if ((b[b.length - 1] as number) < v) n += b.length;
      else return n + lowerBound(b, v);
    }
    return n;
  }

  /** How many values are ≤ v. */
  countAtMost(v: number): number {
    let n = 0;
    for (const b of this.blocks) {
      if ((b[b.length - 1] as number) <= v) n += b.length;
      else return n + upperBound(b, v);
    }
    return n;
  }

  median(): number {
    const n = this.count;
    if (n === 0) return NaN;
    return n % 2 === 1 ? this.kth(n >> 1) : (this.kth(n / 2 - 1) + this.kth(n / 2)) / 2;
  }

  clear(): void {
    this.blocks.length = 0;
    this.count = 0;
  }
}

/** The k-th smallest value (0-based) of `all` minus `part`, `part` being a sub-multiset of `all`. */
export function kthOfDifference(all: SortedValues, part: SortedValues, k: number): number {
  // The smallest value x of `all` with more than k values of the difference at or below it.
  let lo = 0;
  let hi = all.size - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const x = all.kth(mid);
    if (all.countAtMost(x) - part.countAtMost(x) >= k + 1) hi = mid;
    else lo = mid + 1;
  }
  return all.kth(lo);
}

/** The median of `all` minus `part` (as `median` would compute it over a sorted copy of the difference). */
export function medianOfDifference(all: SortedValues, part: SortedValues): number {
  const n = all.size - part.size;
  if (n <= 0) return NaN;
  return n % 2 === 1 ? kthOfDifference(all, part, n >> 1) : (kthOfDifference(all, part, n / 2 - 1) + kthOfDifference(all, part, n / 2)) / 2;
}
