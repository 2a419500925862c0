// The control plane's queue kept in the policy's order (policies/discipline.ts), per kind of request (type and
// model: requests of one kind compete for the same instances). Each kind keeps three ordered sets — by arrival,
// by deadline, and by arrival within each class — so the question "how many queued requests does the policy
// serve before this one?" and "which are the first k?" cost O(log n), whatever the discipline in force:
// admission, the deadline watch and the dispatch window never walk the whole queue. The deadline and class sets
// are filled the first time a kind's queue is asked for their order, and kept from then on: a queue only ever
// served in arrival order (fifo, or adaptive with uniform work) pays for one set per request, not three. Filling
// one costs O(n log n) once for the n requests then queued, each of which paid O(log n) to enter: O(log n) per
// request still.
import { PRIORITY_NAMES, RequestType, type RequestMetadata } from '../types';
import { agesInQueue, type QueueDiscipline, type QueueOrder, type QueueShape } from '../policies';
import { OrderedSet } from './ordered-set';
import { IdList } from '../id-list';

export interface IndexedRequest {
  meta: RequestMetadata;
}

interface Entry<P extends IndexedRequest> {
  p: P;
  kind: string;
  seq: number;
  arrival: number;
  /** EDF key: the earlier deadline, or arrival + the best-effort horizon. */
  edf: number;
  cls: number;
  /** Waiting lifts its class (priority discipline): it has no deadline. */
  ages: boolean;
  embedding: boolean;
}

type Probe = Pick<Entry<IndexedRequest>, 'seq' | 'arrival' | 'edf'>;
/** What ahead() asks about a request, queued or not. */
type Probed = Probe & Pick<Entry<IndexedRequest>, 'cls' | 'ages' | 'embedding'>;

const requestOf = <P extends IndexedRequest>(e: Entry<P>): P => e.p;
const byArrival = (a: Probe, b: Probe) => a.arrival - b.arrival || a.seq - b.seq;
const byEdf = (a: Probe, b: Probe) => a.edf - b.edf || a.arrival - b.arrival || a.seq - b.seq;
const CLASSES = PRIORITY_NAMES.length;
/**
 * Emptied kind queues kept for reuse, at most: under light load a kind's queue empties at nearly every dispatch,
 * and making its twelve ordered sets again for the next request was a measurable share of a request's cost.
 */
const SPARE_KINDS = 16;

class KindQueue<P extends IndexedRequest> {
  readonly arrival = new OrderedSet<Entry<P>, Probe>(byArrival);
  readonly edf = new OrderedSet<Entry<P>, Probe>(byEdf);
  /** Requests that age, by class. */
  readonly classes = Array.from({ length: CLASSES }, () => new OrderedSet<Entry<P>, Probe>(byArrival));
  /** Requests that keep their class (with a deadline), by class. */
  readonly fixed = Array.from({ length: CLASSES }, () => new OrderedSet<Entry<P>, Probe>(byArrival));
  /** Whether `edf` is kept (it holds every queued request of the kind): since its order was first asked for. */
  edfKept = false;
  /** Whether `classes` and `fixed` are kept, likewise. */
  classesKept = false;

  /** `sample`: a request of this kind (type and model), to ask which instances serve the kind. */
  constructor(
    readonly embedding: boolean,
    public sample: RequestMetadata,
  ) {}

  get size(): number {
    return this.arrival.size;
  }
}

/** Kind keys by type and model, each made once: a key built per request cost a concatenation and its hash. */
const kindKeys = new Map<string, Map<string, string>>();
/** Models named by callers: the keys start over rather than grow without bound. */
const MAX_KIND_KEYS = 1024;

export function kindOf(meta: RequestMetadata): string {
  let byModel = kindKeys.get(meta.type);
  if (!byModel) kindKeys.set(meta.type, (byModel = new Map()));
  let key = byModel.get(meta.model);
  if (key === undefined) {
    if (byModel.size >= MAX_KIND_KEYS) byModel.clear();
    key = `${meta.type}\u0000${meta.model}`;
    byModel.set(meta.model, key);
  }
  return key;
}

/** The kind's deadline order, filled from its arrival order the first time it is asked for. */
function edfOf<P extends IndexedRequest>(q: KindQueue<P>): OrderedSet<Entry<P>, Probe> {
  if (!q.edfKept) {
    for (const e of q.arrival.all()) q.edf.insert(e);
    q.edfKept = true;
  }
  return q.edf;
}

/** The kind's class sets, filled the first time they are asked for. */
function keepClasses<P extends IndexedRequest>(q: KindQueue<P>): void {
  if (q.classesKept) return;
  for (const e of q.arrival.all()) classSet(q, e).insert(e);
  q.classesKept = true;
}

const effective = (cls: number, arrival: number, now: number, agingMs: number) => Math.max(0, cls - Math.floor(Math.max(0, now - arrival) / agingMs));
const effectiveOf = (e: Pick<Entry<IndexedRequest>, 'cls' | 'arrival' | 'ages'>, now: number, agingMs: number) => (e.ages ? effective(e.cls, e.arrival, now, agingMs) : e.cls);
const classSet = <P extends IndexedRequest>(q: KindQueue<P>, e: Entry<P>) => (e.ages ? q.classes : q.fixed)[e.cls]!;

export class QueueIndex<P extends IndexedRequest> {
  // By request id as a Map would be, but an IdList: every request passes through it (id-list.ts says why).
  private readonly entries = new IdList<Entry<P>>();
  private readonly kinds = new Map<string, KindQueue<P>>();
  /** Empty kind queues by kind, for the next request of their kind (SPARE_KINDS). */
  private readonly spare = new Map<string, KindQueue<P>>();
  private seq = 0;
  private readonly counts = { llmDeadline: 0, deadline: 0, llm: 0, embeddings: 0, llmByClass: new Array<number>(CLASSES).fill(0), byClass: new Array<number>(CLASSES).fill(0) };
  /** Embedding arrivals, for the oldest one. */
  private readonly embeddingArrivals = new OrderedSet<Probe>(byArrival);
  private readonly scratchProbe: Probed = { seq: 0, arrival: 0, edf: 0, cls: 0, ages: false, embedding: false };
  private readonly scratchShape: QueueShape = {
    llmWithDeadline: 0,
    llmByPriority: this.counts.llmByClass,
    llm: 0,
    embeddings: 0,
    oldestEmbeddingArrival: Infinity,
    withDeadline: 0,
    byPriority: this.counts.byClass,
  };

  /** `bestEffortMs`: the EDF horizon of requests without a deadline (the deadline discipline's). */
  constructor(private readonly bestEffortMs: number) {}

  get size(): number {
    return this.entries.size;
  }

  private edfKey(meta: RequestMetadata): number {
    const a = meta.timestamps.arrival;
    const dl = Math.min(meta.sloDeadlineMs === undefined ? Infinity : a + meta.sloDeadlineMs, meta.ttftDeadlineMs === undefined ? Infinity : a + meta.ttftDeadlineMs);
    return Number.isFinite(dl) ? dl : a + this.bestEffortMs;
  }

  private classOf(meta: RequestMetadata): number {
    return Math.min(CLASSES - 1, Math.max(0, Math.floor(meta.priority)));
  }

  add(p: P): void {
    const meta = p.meta;
    const embedding = meta.type === RequestType.EMBEDDING;
    const kind = kindOf(meta);
    const e: Entry<P> = { p, kind, seq: ++this.seq, arrival: meta.timestamps.arrival, edf: this.edfKey(meta), cls: this.classOf(meta), ages: agesInQueue(meta), embedding };
    // One request per id: one queued under the same id before leaves first (one lookup for both).
    const before = this.entries.swap(meta.id, e);
    if (before) this.unindex(before);
    let q = this.kinds.get(kind);
    if (!q) {
      q = this.spare.get(kind);
      if (q) {
        this.spare.delete(kind);
        q.sample = meta;
      } else {
        q = new KindQueue<P>(embedding, meta);
      }
      this.kinds.set(kind, q);
    }
    q.arrival.insert(e);
    if (q.edfKept) q.edf.insert(e);
    if (q.classesKept) classSet(q, e).insert(e);
    this.count(e, +1);
  }

  remove(p: P): void {
    const e = this.entries.take(p.meta.id);
    if (e) this.unindex(e);
  }

  /** Takes `e` (out of `entries` already) out of its kind's ordered sets and the counts. */
  private unindex(e: Entry<P>): void {
    const q = this.kinds.get(e.kind);
    if (q) {
      q.arrival.delete(e);
      if (q.edfKept) q.edf.delete(e);
      if (q.classesKept) classSet(q, e).delete(e);
      if (q.size === 0) {
        this.kinds.delete(e.kind);
        if (this.spare.size < SPARE_KINDS) this.spare.set(e.kind, q);
      }
    }
    this.count(e, -1);
  }

  private count(e: Entry<P>, d: number): void {
    const c = this.counts;
    const withDeadline = e.p.meta.sloDeadlineMs !== undefined || e.p.meta.ttftDeadlineMs !== undefined;
    if (withDeadline) c.deadline += d;
    c.byClass[e.cls]! += d;
    if (e.embedding) {
      c.embeddings += d;
      if (d > 0) this.embeddingArrivals.insert(e);
      else this.embeddingArrivals.delete(e);
    } else {
      c.llm += d;
      c.llmByClass[e.cls]! += d;
      if (withDeadline) c.llmDeadline += d;
    }
  }

  /**
   * The queue's shape now. One object, refreshed at each call and sharing the live counters: read it at once (a
   * policy's discipline() does), do not keep it. Asked at every admission and dispatch, so it allocates nothing.
   */
  shape(): QueueShape {
    const c = this.counts;
    const s = this.scratchShape;
    s.llmWithDeadline = c.llmDeadline;
    s.llm = c.llm;
    s.embeddings = c.embeddings;
    s.oldestEmbeddingArrival = this.embeddingArrivals.size > 0 ? this.embeddingArrivals.first(1)[0]!.arrival : Infinity;
    s.withDeadline = c.deadline;
    return s;
  }

  /**
   * The probe of `meta`: its own entry when queued, else where it would join (after everything now queued). One
   * object for requests not queued, refilled at each call: ahead() reads it before it returns.
   */
  private probe(meta: RequestMetadata): Probed {
    const own = this.entries.get(meta.id);
    if (own) return own;
    const x = this.scratchProbe;
    x.seq = this.seq + 1;
    x.arrival = meta.timestamps.arrival;
    x.edf = this.edfKey(meta);
    x.cls = this.classOf(meta);
    x.ages = agesInQueue(meta);
    x.embedding = meta.type === RequestType.EMBEDDING;
    return x;
  }

  /** Requests of one kind queue `q` served before `x` under `order`. */
  private before(q: KindQueue<P>, x: Probed, order: QueueOrder, now: number): number {
    if (order.kind === 'arrival') return q.arrival.countBefore(x);
    if (order.kind === 'deadline') return edfOf(q).countBefore(x);
    // Within a class, effective priority only improves with age, so "served before x" is a prefix by arrival.
    keepClasses(q);
    const A = order.agingMs;
    const ex = effectiveOf(x, now, A);
    const mine = (set: OrderedSet<Entry<P>, Probe>) => set.countBefore(x);
    const upTo = (set: OrderedSet<Entry<P>, Probe>, arrival: number) => set.countBefore({ seq: Infinity, arrival, edf: 0 });
    let n = 0;
    // Those that keep their class: every one of a better class, and of its own class those that came first.
    for (let c = 0; c <= ex && c < CLASSES; c++) {
      const set = q.fixed[c]!;
      if (set.size > 0) n += c < ex ? set.size : mine(set);
    }
    for (let c = 0; c < CLASSES; c++) {
      const set = q.classes[c]!;
      if (set.size === 0) continue;
      if (ex === 0) {
        // Only those also at CRITICAL by now, and before it in arrival order.
        n += Math.min(upTo(set, now - c * A), mine(set));
        continue;
      }
      const better = upTo(set, now - (c - ex + 1) * A); // effective class < ex
      const equalOrBetter = upTo(set, now - (c - ex) * A); // effective class ≤ ex
      const bx = mine(set);
      n += better + Math.min(equalOrBetter, bx) - Math.min(better, bx);
    }
    return n;
  }

  /**
   * Queued requests served before `meta` under `discipline`, counting only kinds for which `competes` is true
   * of a request of that kind (those that take slots on the instances that serve it).
   */
  ahead(meta: RequestMetadata, discipline: QueueDiscipline, competes: (sample: RequestMetadata) => boolean, now: number): number {
    const x = this.probe(meta);
    const mixed = discipline.embeddings === 'mixed';
    let n = 0;
    for (const q of this.kinds.values()) {
      if (!competes(q.sample)) continue;
      if (mixed || q.embedding === x.embedding) {
        // Embeddings among themselves are served in arrival order when the policy separates them.
        n += this.before(q, x, !mixed && x.embedding ? { kind: 'arrival' } : discipline.order, now);
      } else if (q.embedding ? discipline.embeddings === 'first' : discipline.embeddings === 'last') {
        n += q.size; // the whole other group goes first
      }
    }
    return n;
  }

  /** The first `perKind` of every kind in service order (the window a dispatch run hands the policy). */
  window(discipline: QueueDiscipline, now: number, perKind: number): P[] {
    return this.windowInto(discipline, now, perKind, []);
  }

  /** window(), appended to `out` (a dispatch run's own array, emptied and used again: no array per run). */
  windowInto(discipline: QueueDiscipline, now: number, perKind: number, out: P[]): P[] {
    for (const q of this.kinds.values()) {
      const order = discipline.embeddings !== 'mixed' && q.embedding ? ({ kind: 'arrival' } as const) : discipline.order;
      if (order.kind === 'arrival') {
        q.arrival.firstInto(perKind, out, requestOf);
        continue;
      }
      if (order.kind === 'deadline') {
        edfOf(q).firstInto(perKind, out, requestOf);
        continue;
      }
      keepClasses(q);
      const A = order.agingMs;
      const first = [...q.classes, ...q.fixed]
        .flatMap((set) => set.first(perKind))
        .sort((a, b) => effectiveOf(a, now, A) - effectiveOf(b, now, A) || a.arrival - b.arrival || a.seq - b.seq)
        .slice(0, perKind);
      for (const e of first) out.push(e.p);
    }
    return out;
  }
}
