// recover(): what to do with each engine an earlier run recorded in the state file. Alive, still running the
// recorded command and healthy → adopt; alive but unhealthy (or its id/port taken now) → stop; gone or
// replaced by another program → prune; owned by another live control plane → leave alone.
import type { Logger } from 'pino';
import type { PortAllocator } from '../ports/port-allocator';
import { probeEngineHealth } from './health';
import { isAlive, runsCommand, terminate } from './process';
import type { StoredEngine } from './state-file';

export interface RecoverReport {
  adopted: string[];
  /** Alive but unhealthy (or not verifiable as ours and healthy): stopped. */
  stopped: string[];
  /** Process gone: entry removed. */
  pruned: string[];
  /** Owned by another live control plane (its pid is alive): left alone. */
  skipped: string[];
  warnings: string[];
}

/** What recovery needs of the manager, passed explicitly. */
export interface RecoveryContext {
  ports: PortAllocator;
  log: Logger;
  healthTimeoutMs: number;
  graceMs: number;
  /** This run already tracks this very process (same id and pid). */
  isCurrent(rec: StoredEngine): boolean;
  /** This run already has an engine with the id. */
  hasEngine(id: string): boolean;
  /** Another live control plane's record: kept in the state file. */
  keepForeign(rec: StoredEngine): void;
  /** Takes the engine over (RUNNING, port and GPUs re-reserved). */
  adopt(rec: StoredEngine, healthDetail: string): void;
}

/** Decides and carries out adopt / stop / prune / skip for each record, appending to the report. */
export async function recoverRecords(records: readonly StoredEngine[], ctx: RecoveryContext, report: RecoverReport): Promise<void> {
  for (const rec of records) {
    if (ctx.isCurrent(rec)) continue; // ours, this run
    if (rec.ownerPid !== process.pid && rec.ownerPid !== undefined && isAlive(rec.ownerPid) && isAlive(rec.pid)) {
      ctx.keepForeign(rec);
      report.skipped.push(rec.id);
      continue;
    }
    if (!isAlive(rec.pid)) {
      report.pruned.push(rec.id);
      continue;
    }
    const same = runsCommand(rec.pid, rec.command);
    if (same === false) {
      report.warnings.push(`${rec.id}: pid ${rec.pid} now runs something else; entry dropped, process left alone`);
      report.pruned.push(rec.id);
      continue;
    }
    const health = await probeEngineHealth(rec.host, rec.port, rec.category, ctx.healthTimeoutMs);
    const portFree = !ctx.ports.holder(rec.port) || ctx.ports.holder(rec.port) === rec.id;
    if (health.ok && portFree && !ctx.hasEngine(rec.id)) {
      ctx.adopt(rec, health.detail);
      report.adopted.push(rec.id);
      continue;
    }
    const why = !health.ok ? `unhealthy (${health.detail})` : 'its id or port is taken in this run';
    await terminate(rec.pid, ctx.graceMs);
    report.stopped.push(rec.id);
    report.warnings.push(`${rec.id}: pid ${rec.pid} from an earlier run stopped: ${why}`);
    ctx.log.warn({ engineId: rec.id, pid: rec.pid }, `left-over engine stopped: ${why}`);
  }
}
