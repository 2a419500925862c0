// Slow-instance drain: an instance that still answers but has become much slower than its peers (the median
// latency per generated token of its recent requests above `factor` × its peers' median, each side with enough
// samples, its own spread over `minSpanMs` so that a burst — a cold start, requests released together after a
// pause — is not enough) gets no new work for `drainMs`; then it is readmitted with a clean window and judged again
// on fresh requests, so it stays out only while it stays slow. At most half of a group is drained at a time. The
// judgement (`findOutliers`) is a pure function; `LatencyOutliers` applies it incrementally.
import { medianOfDifference, SortedValues } from './sorted-values';

export interface LatencyOutlierOptions {
  /** Samples older than this are forgotten, ms (default 30 000). */
  windowMs?: number;
  /** Requests needed on an instance, and on its peers together, before it is judged (default 8). */
  minSamples?: number;
  /** How many times the peers' median makes an outlier (default 3). */
  factor?: number;
  /** Time between an instance's first and last sample in the window before it is judged, ms (default 5000). */
  minSpanMs?: number;
  /** How long an outlier gets no new work before it is tried again, ms (default 10 000). */
  drainMs?: number;
  /** Injected clock for tests. */
  now?: () => number;
}

/** One instance's recent samples; instances of one group (same models and kind) are each other's peers. */
export interface InstanceSamples {
  id: string;
  group: string;
  samples: readonly number[];
  /** Time between its first and last sample, ms (unknown: taken as long enough). */
  spanMs?: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));

/**
 * The outliers among `instances` and why: an instance with at least `minSamples` samples whose median exceeds
 * `factor` × the median of its peers' samples (at least `minSamples` of them, from other instances of its group).
 */
export function findOutliers(instances: readonly InstanceSamples[], o: { minSamples: number; factor: number; minSpanMs?: number }): Map<string, string> {
  const out = new Map<string, string>();
  for (const inst of instances) {
    if (inst.samples.length < o.minSamples || (inst.spanMs ?? Infinity) < (o.minSpanMs ?? 0)) continue;
    const peers = instances.filter((p) => p.group === inst.group && p.id !== inst.id).flatMap((p) => p.samples);
    if (peers.length < o.minSamples) continue;
    const own = median(inst.samples);
    const theirs = median(peers);
    if (theirs > 0 && own > o.factor * theirs) {
      out.set(inst.id, `latency outlier: median ${fmt(own)} ms per token over its last ${inst.samples.length} requests, ${(own / theirs).toFixed(1)}× its peers' ${fmt(theirs)} ms`);
    }
  }
  return out;
}

/**
 * One instance's samples in the window, oldest first, in a ring that grows to the window's largest size and is then
 * reused (appending and expiring make no garbage); sorted too once a judgement needs its median. An instance without
 * peers is never judged past the peer count, so it keeps no sorted copy at all.
 */
class InstanceWindow {
  private at = new Float64Array(64);
  private values = new Float64Array(64);
  /** Ring index of the oldest sample. */
  private start = 0;
  private count = 0;
  /** The window's samples sorted: made at the first judgement that reads them, then kept with every change. */
  sorted: SortedValues | undefined;

  constructor(readonly group: string) {}

  get size(): number {
    return this.count;
  }

  /** The `k`-th oldest sample's value. */
  value(k: number): number {
    return this.values[(this.start + k) & (this.values.length - 1)] as number;
  }

  push(at: number, value: number): void {
    if (this.count === this.values.length) this.grow();
    const i = (this.start + this.count) & (this.values.length - 1);
    this.at[i] = at;
    this.values[i] = value;
    this.count += 1;
    this.sorted?.add(value);
  }

  /** Twice the room, the samples moved to its start in order (capacities stay powers of two). */
  private grow(): void {
    const at = new Float64Array(this.values.length * 2);
    const values = new Float64Array(this.values.length * 2);
    for (let k = 0; k < this.count; k++) {
      const i = (this.start + k) & (this.values.length - 1);
      at[k] = this.at[i] as number;
      values[k] = this.values[i] as number;
    }
    this.at = at;
    this.values = values;
    this.start = 0;
  }

  /** The sorted samples, made now if no judgement read them before. */
  sortedValues(): SortedValues {
    if (!this.sorted) {
      const all = new Array<number>(this.count);
      for (let k = 0; k < this.count; k++) all[k] = this.value(k);
      this.sorted = SortedValues.of(all);
    }
    return this.sorted;
  }

  /** Drops samples older than `cutoff`, from `group` too (its group's samples, unless it is drained). */
  expire(cutoff: number, group: GroupValues | undefined): void {
    const mask = this.values.length - 1;
    while (this.count > 0 && (this.at[this.start] as number) < cutoff) {
      const v = this.values[this.start] as number;
      this.sorted?.remove(v);
      group?.remove(v);
      this.start = (this.start + 1) & mask;
      this.count -= 1;
    }
  }

  /** When the oldest sample was taken (meaningless when empty). */
  get oldestAt(): number {
    return this.at[this.start] as number;
  }

  get spanMs(): number {
    return this.count === 0 ? 0 : (this.at[(this.start + this.count - 1) & (this.values.length - 1)] as number) - (this.at[this.start] as number);
  }
}

/**
 * The samples of a group's instances that are not drained: always their count, and sorted once a judgement needed
 * them (before, a judgement is settled by the count alone: too few peers).
 */
class GroupValues {
  size = 0;
  sorted: SortedValues | undefined;

  add(v: number): void {
    this.size += 1;
    this.sorted?.add(v);
  }

  remove(v: number): void {
    this.size -= 1;
    this.sorted?.remove(v);
  }
}

/**
 * The manager's record of recent latencies per instance and of the instances drained for being outliers. It judges
 * as `findOutliers` does, incrementally: each instance's samples and each group's (of the instances not drained)
 * are kept sorted once a judgement reads them, so a request's end costs about the same whatever the traffic in the
 * window (and an instance with no peers, which cannot be judged, pays for no sorting).
 */
export class LatencyOutliers {
  private readonly windowMs: number;
  private readonly minSamples: number;
  private readonly factor: number;
  private readonly minSpanMs: number;
  readonly drainMs: number;
  private readonly now: () => number;
  private readonly samples = new Map<string, InstanceWindow>();
  /** Per group, the samples of its instances that are not drained: the peers of any one of them are these minus its own. */
  private readonly groups = new Map<string, GroupValues>();
  private readonly drained = new Map<string, { reason: string; until: number }>();
  /**
   * No window holds a sample older than this (the oldest sample when last looked at, or earlier): until the window's
   * cutoff passes it, a request's end has nothing to expire and skips the walk over every instance.
   */
  private oldestAt = Infinity;

  constructor(o: LatencyOutlierOptions = {}) {
    this.windowMs = o.windowMs ?? 30_000;
    this.minSamples = Math.max(1, o.minSamples ?? 8);
    this.factor = o.factor ?? 3;
    this.minSpanMs = o.minSpanMs ?? 5000;
    this.drainMs = o.drainMs ?? 10_000;
    this.now = o.now ?? Date.now;
  }

  private groupValues(group: string): GroupValues {
    let g = this.groups.get(group);
    if (!g) this.groups.set(group, (g = new GroupValues()));
    return g;
  }

  /** Takes an instance's samples out of its group's (it was drained, forgotten or moved to another group). */
  private leaveGroup(w: InstanceWindow): void {
    const g = this.groups.get(w.group);
    if (!g) return;
    for (let k = 0; k < w.size; k++) g.remove(w.value(k));
    if (g.size === 0) this.groups.delete(w.group);
  }

  /** The group's samples sorted, made from its members' windows if no judgement read them before. */
  private groupSorted(group: string, g: GroupValues): SortedValues {
    if (!g.sorted) {
      const values: number[] = [];
      for (const [iid, w] of this.samples) {
        if (w.group !== group || this.drained.has(iid)) continue;
        for (let k = 0; k < w.size; k++) values.push(w.value(k));
      }
      g.sorted = SortedValues.of(values);
    }
    return g.sorted;
  }

  /**
   * A request finished on `id` with `value` (ms per generated token), at `now` on this record's clock (read here
   * unless the caller has just read it). Returns the reason when this sample made the instance an outlier (it is
   * drained from now on).
   */
  observe(id: string, group: string, value: number, now = this.now()): string | undefined {
    if (this.drained.size > 0 && this.drainedReason(id) !== undefined) return undefined; // its slow requests still finishing prove nothing new
    let entry = this.samples.get(id);
    if (!entry || entry.group !== group) {
      if (entry) this.leaveGroup(entry);
      entry = new InstanceWindow(group);
      this.samples.set(id, entry);
    }
    entry.push(now, value);
    if (now < this.oldestAt) this.oldestAt = now;
    const g = this.groupValues(group);
    g.add(value);
    const cutoff = now - this.windowMs;
    if (cutoff > this.oldestAt) {
      // Some window holds a sample past the window: expire them all (and find the oldest sample left).
      let oldest = Infinity;
      for (const [iid, e] of this.samples) {
        const inGroup = this.drained.has(iid) ? undefined : this.groups.get(e.group);
        e.expire(cutoff, inGroup);
        this.drainedReason(iid); // lifts a drain that ran its time
        if (e.size > 0 && e.oldestAt < oldest) oldest = e.oldestAt;
      }
      this.oldestAt = oldest;
    } else if (this.drained.size > 0) {
      // Nothing to expire: only drains that ran their time are lifted (each drained instance has a window).
      for (const iid of this.drained.keys()) this.drainedReason(iid);
    }
    // `g` is still the group's entry: expiring removes values, never the entry, and this sample keeps it non-empty.
    const reason = this.judge(entry, g);
    // Only the instance whose sample arrived is judged here; a peer that became slow is judged on its own samples.
    if (reason === undefined) return undefined;
    // Never more than half of a group out at once: the rest would carry all of its load.
    let members = 0;
    let out = 0;
    for (const [iid, e] of this.samples) {
      if (e.group !== group) continue;
      members += 1;
      if (this.drained.has(iid) && this.drainedReason(iid) !== undefined) out += 1;
    }
    if ((out + 1) * 2 > members) return undefined;
    this.drained.set(id, { reason, until: now + this.drainMs });
    this.leaveGroup(entry);
    return reason;
  }

  /** findOutliers' verdict on `w` against its peers (its group's samples `g` minus its own). */
  private judge(w: InstanceWindow, g: GroupValues): string | undefined {
    if (w.size < this.minSamples || w.spanMs < this.minSpanMs) return undefined;
    if (g.size - w.size < this.minSamples) return undefined;
    const own = w.sortedValues();
    const all = this.groupSorted(w.group, g);
    const ownMedian = own.median();
    // Most samples settle it by counting: the peers' median is at least own / factor whenever more than half of
    // the peers' samples are (a hair of slack, so rounding never hides an outlier); else compute it exactly.
    const n = all.size - own.size;
    const t = (ownMedian / this.factor) * (1 + 1e-9);
    const below = all.countBelow(t) - own.countBelow(t);
    if (below < (n % 2 === 1 ? (n + 1) / 2 : n / 2)) return undefined;
    const theirs = medianOfDifference(all, own);
    if (!(theirs > 0 && ownMedian > this.factor * theirs)) return undefined;
    return `latency outlier: median ${fmt(ownMedian)} ms per token over its last ${own.size} requests, ${(ownMedian / theirs).toFixed(1)}× its peers' ${fmt(theirs)} ms`;
  }

  /** Why the instance gets no new work, or undefined; a drain that ran its time is lifted with a clean window. */
  drainedReason(id: string): string | undefined {
    const d = this.drained.get(id);
    if (!d) return undefined;
    if (this.now() < d.until) return d.reason;
    this.drained.delete(id);
    this.samples.delete(id); // its samples left its group when it was drained
    return undefined;
  }

  forget(id: string): void {
    const w = this.samples.get(id);
    if (w && !this.drained.has(id)) this.leaveGroup(w);
    this.samples.delete(id);
    this.drained.delete(id);
  }
}
