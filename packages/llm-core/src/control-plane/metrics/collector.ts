// MetricsCollector (F-209): per-request outcomes and latencies in, a plain-JSON snapshot out. No I/O and no
// timers: the clock is injected, and the sliding windows (throughput, recent latency) are pruned on use. The snapshot is shaped
// for direct export (every number is a leaf under a stable path; label-like keys are instance ids, priority
// names and rejection codes), so a Prometheus exporter can map it without reaching into this class.
import { PRIORITY_NAMES, RequestPriority, type ExecutionInstance, type InstanceLoad, type PriorityName, type RequestMetadata } from '../types';
import { LatencyHistogram, type LatencySummary } from './latency-histogram';
import { ThroughputWindow } from './throughput-window';
import { WindowedLatencyHistogram } from './windowed-histogram';

export const REQUEST_OUTCOMES = ['completed', 'failed', 'rejected', 'cancelled'] as const;
export type RequestOutcome = (typeof REQUEST_OUTCOMES)[number];

/** What happened to one request. Times in ms. */
export interface RequestRecord {
  requestId: string;
  outcome: RequestOutcome;
  /** Default NORMAL. */
  priority?: RequestPriority;
  /** The model asked for ('' when the caller left it to the instance). */
  model?: string;
  instanceId?: string;
  /** Time from entering the control plane's queue to being dispatched. */
  queueWaitMs?: number;
  /** Time from arrival to the first output token. */
  ttftMs?: number;
  /** Time per output token after the first. */
  tpotMs?: number;
  /** Arrival to last byte. */
  e2eMs?: number;
  promptTokens?: number;
  completionTokens?: number;
  /** Why the engine stopped generating (its finish_reason: stop, length, …), for completed LLM requests. */
  finishReason?: string;
  /** End-to-end deadline relative to arrival; requests with one count toward SLO compliance. */
  sloDeadlineMs?: number;
  ttftDeadlineMs?: number;
  /** Overrides the computed verdict (completed, e2e within sloDeadlineMs and TTFT within ttftDeadlineMs). */
  sloMet?: boolean;
  /** For rejections: the Rejection code (queue_full, deadline_infeasible, …). */
  rejectionCode?: string;
  /** When the request ended, on the collector's clock (default: now). */
  finishedAt?: number;
}

export interface OutcomeCounts {
  total: number;
  completed: number;
  failed: number;
  rejected: number;
  cancelled: number;
}

export interface SloCompliance {
  /** Requests with a deadline that reached an end (cancelled ones excluded: the caller left, not the system). */
  withDeadline: number;
  met: number;
  missed: number;
  /** met / withDeadline, or null when no request had a deadline. */
  compliance: number | null;
}

export interface InstanceMetrics extends OutcomeCounts {
  promptTokens: number;
  completionTokens: number;
  e2eMs: LatencySummary;
  ttftMs: LatencySummary;
  /** Last load seen through observeInstances(), if any. */
  load?: InstanceLoad;
}

export interface PriorityMetrics extends OutcomeCounts {
  e2eMs: LatencySummary;
  slo: SloCompliance;
}

export interface LatencySet {
  queueWaitMs: LatencySummary;
  ttftMs: LatencySummary;
  tpotMs: LatencySummary;
  e2eMs: LatencySummary;
}

/** The JSON returned by getMetrics() and GET /v1/metrics. All latencies in ms, rates per second. */
export interface MetricsSnapshot {
  /** Collector clock at snapshot time. */
  timestamp: number;
  uptimeMs: number;
  /** Length of the throughput window actually used (shorter than configured right after start). */
  windowMs: number;
  requests: OutcomeCounts;
  /** Since start (or the last reset). */
  latency: LatencySet;
  /** The same latencies over requests that finished recently, so a past burst ages out. */
  recent: {
    /** The configured window (MetricsCollectorOptions.windowMs), for labels: "last 60 s". */
    windowMs: number;
    /** Span the latencies actually cover now: between (slices-1)/slices of windowMs and windowMs, less right after start. */
    spanMs: number;
    latency: LatencySet;
  };
  tokens: { prompt: number; completion: number };
  throughput: { requestsPerSec: number; tokensPerSec: number; promptTokensPerSec: number; completionTokensPerSec: number };
  slo: { overall: SloCompliance; byPriority: Record<PriorityName, SloCompliance> };
  priorities: Record<PriorityName, PriorityMetrics>;
  instances: Record<string, InstanceMetrics>;
  /** Rejections by code. */
  rejections: Record<string, number>;
}

export interface MetricsCollectorOptions {
  /** Clock in ms (default Date.now). */
  clock?: () => number;
  /** Window for throughput and the recent latencies (default 60,000 ms). */
  windowMs?: number;
  /** Slices the recent-latency window is kept in (default 6, i.e. 10 s each); more slices age out more smoothly. */
  windowSlices?: number;
}

interface SloTally {
  met: number;
  missed: number;
}

interface Bucket {
  counts: OutcomeCounts;
  e2e: LatencyHistogram;
  ttft: LatencyHistogram;
  slo: SloTally;
  prompt: number;
  completion: number;
}

const newBucket = (): Bucket => ({
  counts: { total: 0, completed: 0, failed: 0, rejected: 0, cancelled: 0 },
  e2e: new LatencyHistogram(),
  ttft: new LatencyHistogram(),
  slo: { met: 0, missed: 0 },
  prompt: 0,
  completion: 0,
});

const round3 = (x: number) => Math.round(x * 1000) / 1000;

function compliance(t: SloTally): SloCompliance {
  const withDeadline = t.met + t.missed;
  return { withDeadline, met: t.met, missed: t.missed, compliance: withDeadline === 0 ? null : round3(t.met / withDeadline) };
}

/** Whether a finished request met its SLO, or undefined when it had none (or was cancelled). */
export function sloVerdict(r: RequestRecord): boolean | undefined {
  if (r.outcome === 'cancelled') return undefined;
  if (r.sloDeadlineMs === undefined && r.ttftDeadlineMs === undefined) return r.sloMet;
  if (r.sloMet !== undefined) return r.sloMet;
  if (r.outcome !== 'completed') return false;
  const e2eOk = r.sloDeadlineMs === undefined || (r.e2eMs !== undefined && r.e2eMs <= r.sloDeadlineMs);
  const ttftOk = r.ttftDeadlineMs === undefined || (r.ttftMs !== undefined && r.ttftMs <= r.ttftDeadlineMs);
  return e2eOk && ttftOk;
}

/** A RequestRecord from a request's own timestamps (the manager's view), plus what only the caller knows. */
export function recordFromRequest(
  request: RequestMetadata,
  outcome: RequestOutcome,
  extra: Pick<RequestRecord, 'instanceId' | 'completionTokens' | 'promptTokens' | 'rejectionCode' | 'sloMet'> = {},
): RequestRecord {
  const t = request.timestamps;
  const rec: RequestRecord = {
    requestId: request.id,
    outcome,
    priority: request.priority,
    model: request.model,
    sloDeadlineMs: request.sloDeadlineMs,
    ttftDeadlineMs: request.ttftDeadlineMs,
    ...extra,
    promptTokens: extra.promptTokens ?? request.promptTokens,
  };
  if (t.scheduled !== undefined) rec.queueWaitMs = t.scheduled - (t.queued ?? t.arrival);
  if (t.firstToken !== undefined) rec.ttftMs = t.firstToken - t.arrival;
  if (t.finished !== undefined) {
    rec.e2eMs = t.finished - t.arrival;
    rec.finishedAt = t.finished;
    if (t.firstToken !== undefined && extra.completionTokens !== undefined && extra.completionTokens > 1) {
      rec.tpotMs = (t.finished - t.firstToken) / (extra.completionTokens - 1);
    }
  }
  return rec;
}

export class MetricsCollector {
  private readonly clock: () => number;
  private readonly windowMs: number;
  private startedAt: number;
  private all = newBucket();
  private queueWait = new LatencyHistogram();
  private tpot = new LatencyHistogram();
  private readonly windowed: Record<keyof LatencySet, WindowedLatencyHistogram>;
  /** By RequestPriority (PRIORITY_NAMES' order), each made at its first request. */
  private readonly byPriority = new Array<Bucket | undefined>(PRIORITY_NAMES.length).fill(undefined);
  private byInstance = new Map<string, Bucket>();
  private loads = new Map<string, InstanceLoad>();
  private rejections = new Map<string, number>();
  /** Completed requests inside the throughput window, counted per time bucket. */
  private readonly recent: ThroughputWindow;

  constructor(options: MetricsCollectorOptions = {}) {
    this.clock = options.clock ?? Date.now;
    this.windowMs = options.windowMs ?? 60_000;
    if (!(this.windowMs > 0)) throw new RangeError(`windowMs must be > 0, got ${String(options.windowMs)}`);
    const slices = options.windowSlices ?? 6;
    if (!Number.isInteger(slices) || slices < 1 || slices > 1000) throw new RangeError(`windowSlices must be an integer 1..1000, got ${String(options.windowSlices)}`);
    this.recent = new ThroughputWindow(this.windowMs);
    const windowed = () => new WindowedLatencyHistogram({ sliceMs: this.windowMs / slices, slices });
    this.windowed = { queueWaitMs: windowed(), ttftMs: windowed(), tpotMs: windowed(), e2eMs: windowed() };
    this.startedAt = this.clock();
  }

  /** `now`: the collector's clock, when the caller has just read it (default: read here). */
  record(r: RequestRecord, now = this.clock()): void {
    const verdict = sloVerdict(r);
    const completed = r.outcome === 'completed';
    // The same record goes to every bucket it belongs to (no array of them per request).
    this.count(this.all, r, completed, verdict);
    this.count(this.priorityBucket(priorityIndex(r.priority)), r, completed, verdict);
    if (r.instanceId !== undefined) this.count(this.instanceBucket(r.instanceId), r, completed, verdict);
    if (r.queueWaitMs !== undefined) this.queueWait.record(r.queueWaitMs);
    if (r.tpotMs !== undefined) this.tpot.record(r.tpotMs);
    this.recordRecent(r, completed, now);
    if (r.outcome === 'rejected') {
      const code = r.rejectionCode ?? 'unknown';
      this.rejections.set(code, (this.rejections.get(code) ?? 0) + 1);
    }
    if (completed) this.recent.add(r.finishedAt ?? now, now, r.promptTokens ?? 0, r.completionTokens ?? 0);
  }

  private count(b: Bucket, r: RequestRecord, completed: boolean, verdict: boolean | undefined): void {
    const counts = b.counts;
    counts.total += 1;
    // A store per outcome rather than one keyed by the outcome's name (a lookup by name at every request).
    switch (r.outcome) {
      case 'completed':
        counts.completed += 1;
        break;
      case 'failed':
        counts.failed += 1;
        break;
      case 'rejected':
        counts.rejected += 1;
        break;
      case 'cancelled':
        counts.cancelled += 1;
        break;
      default:
        counts[r.outcome as RequestOutcome] += 1;
    }
    if (r.e2eMs !== undefined && completed) b.e2e.record(r.e2eMs);
    if (r.ttftMs !== undefined) b.ttft.record(r.ttftMs);
    if (verdict === true) b.slo.met += 1;
    else if (verdict === false) b.slo.missed += 1;
    b.prompt += r.promptTokens ?? 0;
    b.completion += r.completionTokens ?? 0;
  }

  /** Remembers the instances' current load for the per-instance section (secrets such as apiKey are not kept). */
  observeInstances(instances: readonly ExecutionInstance[]): void {
    for (const i of instances) this.loads.set(i.id, { ...i.load });
  }

  snapshot(): MetricsSnapshot {
    const now = this.clock();
    const windowMs = Math.max(1, Math.min(this.windowMs, now - this.startedAt));
    const perSec = (n: number) => round3((n * 1000) / windowMs);
    const { requests: completed, prompt, completion } = this.recent.totals(now);

    const sloByPriority = {} as Record<PriorityName, SloCompliance>;
    const priorities = {} as Record<PriorityName, PriorityMetrics>;
    for (const name of PRIORITY_NAMES) {
      const b = this.byPriority[RequestPriority[name]] ?? newBucket();
      sloByPriority[name] = compliance(b.slo);
      priorities[name] = { ...b.counts, e2eMs: b.e2e.summary(), slo: compliance(b.slo) };
    }
    const instances: Record<string, InstanceMetrics> = {};
    for (const id of new Set([...this.byInstance.keys(), ...this.loads.keys()])) {
      const b = this.byInstance.get(id) ?? newBucket();
      const m: InstanceMetrics = { ...b.counts, promptTokens: b.prompt, completionTokens: b.completion, e2eMs: b.e2e.summary(), ttftMs: b.ttft.summary() };
      const load = this.loads.get(id);
      if (load) m.load = { ...load };
      instances[id] = m;
    }
    return {
      timestamp: now,
      uptimeMs: now - this.startedAt,
      windowMs,
      requests: { ...this.all.counts },
      latency: { queueWaitMs: this.queueWait.summary(), ttftMs: this.all.ttft.summary(), tpotMs: this.tpot.summary(), e2eMs: this.all.e2e.summary() },
      recent: {
        windowMs: this.windowMs,
        spanMs: Math.max(0, now - Math.max(this.startedAt, this.windowed.e2eMs.windowStart(now))),
        latency: {
          queueWaitMs: this.windowed.queueWaitMs.summary(now),
          ttftMs: this.windowed.ttftMs.summary(now),
          tpotMs: this.windowed.tpotMs.summary(now),
          e2eMs: this.windowed.e2eMs.summary(now),
        },
      },
      tokens: { prompt: this.all.prompt, completion: this.all.completion },
      throughput: {
        requestsPerSec: perSec(completed),
        tokensPerSec: perSec(prompt + completion),
        promptTokensPerSec: perSec(prompt),
        completionTokensPerSec: perSec(completion),
      },
      slo: { overall: compliance(this.all.slo), byPriority: sloByPriority },
      priorities,
      instances,
      rejections: Object.fromEntries(this.rejections),
    };
  }

  /** Forgets everything recorded so far and restarts the clock window. */
  reset(): void {
    this.all = newBucket();
    this.queueWait = new LatencyHistogram();
    this.tpot = new LatencyHistogram();
    for (const w of Object.values(this.windowed)) w.reset();
    this.byPriority.fill(undefined);
    this.byInstance.clear();
    this.loads.clear();
    this.rejections.clear();
    this.recent.reset();
    this.startedAt = this.clock();
  }

  /** The recent-window side of record(): same selection as the cumulative histograms, placed at the finish time. */
  private recordRecent(r: RequestRecord, completed: boolean, now: number): void {
    const at = r.finishedAt ?? now;
    const w = this.windowed;
    if (r.e2eMs !== undefined && completed) w.e2eMs.record(r.e2eMs, at, now);
    if (r.ttftMs !== undefined) w.ttftMs.record(r.ttftMs, at, now);
    if (r.queueWaitMs !== undefined) w.queueWaitMs.record(r.queueWaitMs, at, now);
    if (r.tpotMs !== undefined) w.tpotMs.record(r.tpotMs, at, now);
  }

  private priorityBucket(index: number): Bucket {
    let b = this.byPriority[index];
    if (!b) this.byPriority[index] = b = newBucket();
    return b;
  }

  private instanceBucket(id: string): Bucket {
    let b = this.byInstance.get(id);
    if (!b) this.byInstance.set(id, (b = newBucket()));
    return b;
  }
}

/** A record's priority as an index into PRIORITY_NAMES: NORMAL when it has none or one outside them. */
function priorityIndex(p: RequestPriority | undefined): number {
  return p !== undefined && PRIORITY_NAMES[p] !== undefined ? p : RequestPriority.NORMAL;
}
