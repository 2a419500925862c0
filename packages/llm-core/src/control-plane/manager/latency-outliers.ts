// Slow-instance drain: an instance that still answers but has become much slower than its peers (the median
// latency per generated token of its recent requests above `factor` × its peers' median, each side with enough
// samples, its own spread over `minSpanMs` so that a burst — a cold start, requests released together after a
// pause — is not enough) gets no new work for `drainMs`; then it is readmitted with a clean window and judged again
// on fresh requests, so it stays out only while it stays slow. At most half of a group is drained at a time. The
// judgement (`findOutliers`) is a pure function.

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

interface Sample {
  at: number;
  value: number;
}

/** The manager's record of recent latencies per instance and of the instances drained for being outliers. */
export class LatencyOutliers {
  private readonly windowMs: number;
  private readonly minSamples: number;
  private readonly factor: number;
  private readonly minSpanMs: number;
  readonly drainMs: number;
  private readonly now: () => number;
  private readonly samples = new Map<string, { group: string; list: Sample[] }>();
  private readonly drained = new Map<string, { reason: string; until: number }>();

  constructor(o: LatencyOutlierOptions = {}) {
    this.windowMs = o.windowMs ?? 30_000;
    this.minSamples = Math.max(1, o.minSamples ?? 8);
    this.factor = o.factor ?? 3;
    this.minSpanMs = o.minSpanMs ?? 5000;
    this.drainMs = o.drainMs ?? 10_000;
    this.now = o.now ?? Date.now;
  }

  /**
   * A request finished on `id` with `value` (ms per generated token). Returns the reason when this sample made
   * the instance an outlier (it is drained from now on).
   */
  observe(id: string, group: string, value: number): string | undefined {
    const now = this.now();
    if (this.drainedReason(id) !== undefined) return undefined; // its slow requests still finishing prove nothing new
    let entry = this.samples.get(id);
    if (!entry || entry.group !== group) {
      entry = { group, list: [] };
      this.samples.set(id, entry);
    }
    entry.list.push({ at: now, value });
    const judged: InstanceSamples[] = [];
    for (const [iid, e] of this.samples) {
      while (e.list.length > 0 && (e.list[0] as Sample).at < now - this.windowMs) e.list.shift();
      const first = e.list[0];
      const last = e.list[e.list.length - 1];
      if (this.drainedReason(iid) === undefined) judged.push({ id: iid, group: e.group, samples: e.list.map((s) => s.value), spanMs: first && last ? last.at - first.at : 0 });
    }
    const reason = findOutliers(judged, { minSamples: this.minSamples, factor: this.factor, minSpanMs: this.minSpanMs }).get(id);
    // Only the instance whose sample arrived is judged here; a peer that became slow is judged on its own samples.
    if (reason === undefined) return undefined;
    // Never more than half of a group out at once: the rest would carry all of its load.
    const members = [...this.samples.values()].filter((e) => e.group === group).length;
    const out = [...this.samples].filter(([iid, e]) => e.group === group && this.drained.has(iid) && this.drainedReason(iid) !== undefined).length;
    if ((out + 1) * 2 > members) return undefined;
    this.drained.set(id, { reason, until: now + this.drainMs });
    return reason;
  }

  /** Why the instance gets no new work, or undefined; a drain that ran its time is lifted with a clean window. */
  drainedReason(id: string): string | undefined {
    const d = this.drained.get(id);
    if (!d) return undefined;
    if (this.now() < d.until) return d.reason;
    this.drained.delete(id);
    this.samples.delete(id);
    return undefined;
  }

  forget(id: string): void {
    this.samples.delete(id);
    this.drained.delete(id);
  }
}
