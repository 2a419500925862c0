// Shadow admission: every request is admitted, and what admission (or the queued-deadline watch) would have
// refused is noted and compared with what really happened. A refusal was false when the request made it
// anyway: its deadline met, or, for a wait-budget refusal, its queue wait within the budget. The rate of false
// refusals is what says whether the judge's confidence is set right.
import { IdList } from '../id-list';
import { sloVerdict, type RequestRecord } from '../metrics';
import { PRIORITY_NAMES, type RequestMetadata } from '../types';

export interface RefusalTally {
  /** Requests that admission or the watch refused (or, in shadow mode, would have). */
  refused: number;
  /** Shadow mode: of those, the ones that then made it. */
  falseRefusals: number;
}

export interface AdmissionAuditSnapshot {
  shadow: boolean;
  /** Predictive refusals by code (deadline_infeasible; queue_full for the wait budget). */
  byCode: Record<string, RefusalTally>;
  refused: number;
  falseRefusals: number;
  /** falseRefusals / refused in shadow mode (null otherwise or before any). */
  falseRefusalRate: number | null;
  /** Per-class wait budgets in force, ms (null: no bound). */
  waitBudgetMs: Record<string, number | null>;
}

/** Noted verdicts kept at most (a request whose end is never recorded must not hold memory forever). */
const MAX_NOTED = 100_000;

export class AdmissionAudit {
  // Not a Map: in shadow mode every refused request is added here and deleted when it ends, and a Map that entries
  // pass through keeps its replaced tables, with the ids they held, alive through young collections (id-list.ts).
  private readonly noted = new IdList<string>();
  private readonly byCode = new Map<string, RefusalTally>();

  constructor(
    readonly shadow: boolean,
    private readonly waitBudgets: readonly number[],
  ) {}

  private tally(code: string): RefusalTally {
    let t = this.byCode.get(code);
    if (!t) this.byCode.set(code, (t = { refused: 0, falseRefusals: 0 }));
    return t;
  }

  /** A predictive refusal was made (or, in shadow mode, would have been: only the first one counts). */
  refusal(meta: RequestMetadata, code: string): void {
    if (!this.shadow) {
      this.tally(code).refused += 1;
      return;
    }
    if (this.noted.has(meta.id)) return;
    this.noted.set(meta.id, code);
    this.noted.keepNewest(MAX_NOTED);
  }

  /** Shadow mode: has admission or the watch already noted this one? */
  isNoted(id: string): boolean {
    return this.noted.has(id);
  }

  /** The request reached its end: a noted one is scored now. */
  outcome(record: RequestRecord, priority: number): void {
    // Outside shadow mode nothing is ever noted: no lookup by id at every request's end.
    if (this.noted.size === 0) return;
    const code = this.noted.take(record.requestId);
    if (code === undefined) return;
    if (record.outcome === 'cancelled') return;
    const t = this.tally(code);
    t.refused += 1;
    let madeIt: boolean;
    if (code === 'deadline_infeasible') madeIt = sloVerdict(record) === true;
    else madeIt = record.outcome === 'completed' && (record.queueWaitMs ?? 0) <= (this.waitBudgets[priority] ?? Infinity);
    if (madeIt) t.falseRefusals += 1;
  }

  snapshot(): AdmissionAuditSnapshot {
    const byCode = Object.fromEntries([...this.byCode].map(([k, v]) => [k, { ...v }]));
    const refused = [...this.byCode.values()].reduce((s, t) => s + t.refused, 0);
    const falseRefusals = [...this.byCode.values()].reduce((s, t) => s + t.falseRefusals, 0);
    return {
      shadow: this.shadow,
      byCode,
      refused,
      falseRefusals,
      falseRefusalRate: this.shadow && refused > 0 ? Math.round((falseRefusals / refused) * 1000) / 1000 : null,
      waitBudgetMs: Object.fromEntries(PRIORITY_NAMES.map((n, i) => [n, Number.isFinite(this.waitBudgets[i] ?? Infinity) ? (this.waitBudgets[i] as number) : null])),
    };
  }
}
