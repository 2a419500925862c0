// EngineLifecycleManager (F-210, F-211): the only owner of engine state. Spawns engines from their kind's
// command line, tracks every process in a state file, health-checks them, restarts and stops them without
// leaving orphans, and at recover() adopts or stops what an earlier run left behind.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino, { type Logger } from 'pino';
import type { GPUResourceManager } from '../gpu/gpu-resource-manager';
import { DEFAULT_HOST, EngineSpecError } from '../kinds/builders';
import { naturalCategory, supportedCategories } from '../kinds/gpu-rule';
import type { CommandBuildOptions, CommandLine, EngineCategory } from '../kinds/types';
import type { PortAllocator } from '../ports/port-allocator';
import { commandFor, engineBaseUrl, formatShown, shown, slug } from './command-line';
import { adoptedEntry, snapshot, startingEntry, storedRecord, type Entry } from './entry';
import { EngineEvents, type EngineExitListener } from './engine-events';
import { EngineConflictError, EngineNotFoundError, EngineStartError } from './errors';
import { probeEngineHealth } from './health';
import { isAlive, terminate, watchPid } from './process';
import { launchEngine, processGone, type LaunchContext } from './launch';
import { recoverRecords, type RecoverReport } from './recovery';
import { reacquire, reserveForStart } from './resources';
import { readStateFile, writeStateFile, type StoredEngine } from './state-file';
import { EngineState, type EngineEvent, type EngineInfo, type EngineStartSpec, type EngineStateListener } from './types';

export type { RecoverReport } from './recovery';

export interface LifecycleOptions {
  /** The control plane's one port allocator. */
  ports: PortAllocator;
  /** GPU manager; without one, engines that need a GPU cannot start. */
  gpus?: GPUResourceManager;
  /** Default: $SAGE_HOME, else ~/.sage. Logs go to logs/engines/<id>.log, the state file to run/engines.json. */
  sageHome?: string;
  logger?: Logger;
  /** How long an engine may take to answer its first health check (vLLM loading a model takes minutes). */
  startupTimeoutMs?: number;
  /** Health polling interval while starting. */
  startupPollMs?: number;
  /** SIGTERM → SIGKILL grace period. */
  stopGraceMs?: number;
  commandOptions?: CommandBuildOptions;
  /** Oldest events are dropped beyond this many per engine. */
  maxEventsPerEngine?: number;
  /** How often the pid of an adopted engine (not our child: no exit event) is checked, ms (default 500). */
  pidPollMs?: number;
  now?: () => Date;
}

export function defaultSageHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.SAGE_HOME && env.SAGE_HOME.trim() ? env.SAGE_HOME : path.join(os.homedir(), '.sage');
}

const PORT_TAKEN = /EADDRINUSE|address already in use/i;

export class EngineLifecycleManager {
  readonly sageHome: string;
  readonly logDir: string;
  readonly stateFile: string;
  readonly ports: PortAllocator;
  readonly gpus?: GPUResourceManager;
  private readonly log: Logger;
  private readonly startupTimeoutMs: number;
  private readonly startupPollMs: number;
  private readonly stopGraceMs: number;
  private readonly maxEvents: number;
  private readonly now: () => Date;
  private readonly entries = new Map<string, Entry>();
  /** State-file entries of other live control planes, preserved on every write. */
  private foreign: StoredEngine[] = [];
  private readonly events: EngineEvents;
  private readonly launchContext: LaunchContext;
  /** Ids whose start() is between its checks and its registration (guards concurrent starts of one id). */
  private readonly pending = new Set<string>();

  constructor(private readonly options: LifecycleOptions) {
    this.ports = options.ports;
    this.gpus = options.gpus;
    this.sageHome = options.sageHome ?? defaultSageHome();
    this.logDir = path.join(this.sageHome, 'logs', 'engines');
    this.stateFile = path.join(this.sageHome, 'run', 'engines.json');
    this.log = options.logger ?? pino({ level: 'silent' });
    this.startupTimeoutMs = options.startupTimeoutMs ?? 180_000;
    // A restarted engine serves again as soon as it answers: poll often (a refused connect costs nothing).
    this.startupPollMs = options.startupPollMs ?? 100;
    this.stopGraceMs = options.stopGraceMs ?? 10_000;
    this.maxEvents = options.maxEventsPerEngine ?? 200;
    this.now = options.now ?? (() => new Date());
    this.events = new EngineEvents({ log: this.log, now: this.now, maxEvents: this.maxEvents, lookup: (id) => this.entries.get(id) });
    this.launchContext = {
      now: this.now,
      startupTimeoutMs: this.startupTimeoutMs,
      startupPollMs: this.startupPollMs,
      setState: (e, state, message) => this.setState(e, state, message),
      recordEvent: (id, type, message) => this.recordEvent(id, type, message),
      persist: () => this.persist(),
      killProcess: (e, graceMs) => this.killProcess(e, graceMs),
      exitWatched: () => this.events.exitWatched,
      notifyExit: (id, detail) => this.events.notifyExit(id, detail),
    };
  }

  /** Builds a manager and recovers what an earlier run left behind. */
  static async create(options: LifecycleOptions): Promise<{ manager: EngineLifecycleManager; recovered: RecoverReport }> {
    const manager = new EngineLifecycleManager(options);
    const recovered = await manager.recover();
    return { manager, recovered };
  }

  // ------------------------------------------------------------------ queries

  getEngine(id: string): EngineInfo | undefined {
    const e = this.entries.get(id);
    return e && snapshot(e);
  }

  listEngines(): EngineInfo[] {
    return [...this.entries.values()].map((e) => snapshot(e));
  }

  getState(id: string): EngineState | undefined {
    return this.entries.get(id)?.info.state;
  }

  /** Engines the auto-restart supervisor watches: running ones, those restarting, and those whose process died under them. */
  supervisedIds(): string[] {
    return [...this.entries.values()]
      .filter((e) => e.info.state === EngineState.RUNNING || e.info.state === EngineState.RESTARTING || (e.info.state === EngineState.FAILED && e.failure === 'exit'))
      .map((e) => e.info.id);
  }

  private get(id: string): Entry {
    const e = this.entries.get(id);
    if (!e) throw new EngineNotFoundError(id);
    return e;
  }

  // ------------------------------------------------------------------ events and state

  /** Subscribes to state changes; returns the unsubscribe function. */
  onStateChange(listener: EngineStateListener): () => void {
    return this.events.subscribe(listener);
  }

  /**
   * Subscribes to engines whose process exits on its own while RUNNING (the supervisor restarts them). While a
   * listener is subscribed such an engine goes RESTARTING instead of FAILED. Returns the unsubscribe function.
   */
  onProcessExit(listener: EngineExitListener): () => void {
    return this.events.subscribeExit(listener);
  }

  /** A restart is pending (the supervisor's backoff): RUNNING or FAILED → RESTARTING. */
  markRestarting(id: string, reason: string): void {
    const e = this.entries.get(id);
    if (!e || (e.info.state !== EngineState.RUNNING && e.info.state !== EngineState.FAILED)) return;
    this.setState(e, EngineState.RESTARTING, reason);
  }

  /** Appends to an engine's event log (also used by the supervisor for restart scheduling). */
  recordEvent(id: string, type: EngineEvent['type'], message: string, state?: EngineState): void {
    this.events.record(id, type, message, state);
  }

  private setState(e: Entry, state: EngineState, message: string): void {
    this.events.setState(e, state, message);
  }

  /** Marks an engine FAILED for good (the supervisor gave up): logged and visible in its status. */
  markFailed(id: string, reason: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    e.failure = 'exhausted';
    if (e.info.state !== EngineState.FAILED) this.setState(e, EngineState.FAILED, reason);
    else this.recordEvent(id, 'info', reason, EngineState.FAILED);
    this.log.error({ engineId: id }, reason);
  }

  private persist(): void {
    const now = (): string => this.now().toISOString();
    const ours = [...this.entries.values()].flatMap((e) => storedRecord(e, now, process.pid) ?? []);
    try {
      writeStateFile(this.stateFile, [...this.foreign, ...ours]);
    } catch (err) {
      this.log.error({ err, stateFile: this.stateFile }, 'cannot write the engine state file');
    }
  }

  // ------------------------------------------------------------------ start

  /**
   * Starts an engine and resolves once it answers its health check (RUNNING). Port and GPUs are reserved
   * first (typed 409 errors when they cannot be had); on failure they are released and the engine is left
   * FAILED with the end of its log in the error.
   */
  async start(spec: EngineStartSpec): Promise<EngineInfo> {
    const category: EngineCategory = spec.category ?? naturalCategory(spec.kind);
    if (!supportedCategories(spec.kind).includes(category)) throw new EngineSpecError(`engine ${spec.kind} cannot serve ${category} models`);
    const id = spec.id ?? `${spec.kind}-${slug(spec.model)}-${randomBytes(3).toString('hex')}`;
    if (!/^[A-Za-z0-9][\w.-]*$/.test(id)) throw new EngineSpecError(`invalid engine id "${id}"`);
    spec = { ...spec, id };
    if (this.pending.has(id)) throw new EngineConflictError(`engine ${id} is already being started`);
    this.pending.add(id);
    let entry: Entry;
    try {
      entry = await this.prepare(spec, id);
    } finally {
      this.pending.delete(id);
    }

    const run = this.launchFirst(entry, spec.port === undefined).catch(async (err: unknown) => {
      entry.failure = 'start';
      await this.releaseResources(entry);
      throw err;
    });
    entry.busy = run;
    await run;
    return snapshot(entry);
  }

  /**
   * The first launch. An allocated port can be taken by another process between our probe and the engine's
   * bind; then (and only for ports we chose) the engine is moved once to the next free port.
   */
  private async launchFirst(entry: Entry, portWasAllocated: boolean): Promise<void> {
    try {
      await this.launch(entry);
    } catch (err) {
      if (!portWasAllocated || entry.stopRequested || !(err instanceof EngineStartError) || !PORT_TAKEN.test(err.logTail)) throw err;
      const { id, port: old, category, host } = entry.info;
      const port = await this.ports.allocate(category, id); // the old port is still ours, so it is skipped
      this.ports.release(old, id);
      entry.cmd = this.commandFor(entry.spec, category, host, port, entry.info.gpuIds);
      entry.info.port = port;
      entry.info.baseUrl = engineBaseUrl(host, port);
      entry.info.command = shown(entry.cmd);
      this.recordEvent(id, 'info', `port ${old} was taken by another process before the engine could bind it; moving to ${port}`);
      await this.launch(entry);
    }
  }

  /** Checks the id, reserves port and GPUs, builds the command and registers the entry (STARTING). */
  private async prepare(spec: EngineStartSpec, id: string): Promise<Entry> {
    const category: EngineCategory = spec.category ?? naturalCategory(spec.kind);
    const existing = this.entries.get(id);
    if (existing) {
      if (existing.info.state !== EngineState.STOPPED && existing.info.state !== EngineState.FAILED) {
        throw new EngineConflictError(`engine ${id} already exists (${existing.info.state})`);
      }
      await this.stop(id); // releases whatever a FAILED engine still held
      this.entries.delete(id);
    }

    const host = spec.host ?? DEFAULT_HOST;
    const reservation = await reserveForStart(this.ports, this.gpus, spec, id, category, (port, gpuIds) => this.commandFor(spec, category, host, port, gpuIds));
    const { port, gpuIds, cmd } = reservation;

    fs.mkdirSync(this.logDir, { recursive: true });
    const entry = startingEntry(spec, id, category, host, reservation, path.join(this.logDir, `${id}.log`));
    this.entries.set(id, entry);
    this.recordEvent(id, 'state', `created: ${formatShown(cmd)} (port ${port}${gpuIds.length ? `, GPUs ${gpuIds.join(',')}` : ', no GPU'})`, EngineState.STARTING);
    return entry;
  }

  private commandFor(spec: EngineStartSpec, category: EngineCategory, host: string, port: number, gpuIds: number[]): CommandLine {
    return commandFor(spec, category, host, port, gpuIds, this.options.commandOptions);
  }

  /** Spawns the entry's command and waits for the first healthy answer; STARTING → RUNNING | FAILED. */
  private launch(entry: Entry): Promise<void> {
    return launchEngine(entry, this.launchContext);
  }

  // ------------------------------------------------------------------ health

  /**
   * Process liveness plus HTTP (LLM: /health then /v1/models; embedding: /health). An engine still STARTING
   * is inside its start-up grace period and reports false without counting as a failure anywhere.
   */
  async healthCheck(id: string, timeoutMs = 5000): Promise<boolean> {
    const e = this.get(id);
    const { state } = e.info;
    if (state === EngineState.STARTING || state === EngineState.STOPPING || state === EngineState.STOPPED) return false;
    const at = this.now().toISOString();
    const previous = e.info.lastHealth?.ok;
    let result: { ok: boolean; detail: string };
    if (!this.processAlive(e)) result = { ok: false, detail: 'process is not running' };
    else result = await probeEngineHealth(e.info.host, e.info.port, e.info.category, timeoutMs);
    e.info.lastHealth = { ok: result.ok, at, detail: result.detail };
    if (previous !== result.ok) this.recordEvent(id, 'health', `${result.ok ? 'healthy' : 'unhealthy'}: ${result.detail}`);
    return result.ok;
  }

  async healthCheckAll(timeoutMs = 5000): Promise<Record<string, boolean>> {
    const ids = [...this.entries.values()].filter((e) => e.info.state !== EngineState.STOPPED).map((e) => e.info.id);
    const results = await Promise.all(ids.map(async (id) => [id, await this.healthCheck(id, timeoutMs)] as const));
    return Object.fromEntries(results);
  }

  private processAlive(e: Entry): boolean {
    if (e.child) return e.child.exitCode === null && e.child.signalCode === null;
    return e.info.pid !== undefined && isAlive(e.info.pid);
  }

  // ------------------------------------------------------------------ restart and stop

  private async serial<T>(e: Entry, fn: () => Promise<T>): Promise<T> {
    const before = e.busy ?? Promise.resolve();
    const run = before.catch(() => undefined).then(fn);
    e.busy = run;
    try {
      return await run;
    } finally {
      if (e.busy === run) e.busy = undefined;
    }
  }

  /**
   * Restarts an engine in place: same id, port and GPUs (re-reserved if it had been stopped). The old process
   * is stopped first if it is still there. Rejects (engine FAILED) when the new process does not come up.
   */
  async restart(id: string): Promise<EngineInfo> {
    const e = this.get(id);
    return this.serial(e, async () => {
      if (e.info.state === EngineState.STOPPING) throw new EngineConflictError(`engine ${id} is stopping`);
      if (e.info.state === EngineState.STOPPED || e.failure === 'start') {
        await reacquire(this.ports, this.gpus, e);
      }
      e.info.restarts += 1;
      this.recordEvent(id, 'restart', `restart #${e.info.restarts} on port ${e.info.port}`);
      if (this.processAlive(e)) await this.killProcess(e, this.stopGraceMs);
      if (e.info.gpuIds.length && this.gpus) {
        const now = this.gpus.allocation(id)?.gpuIds;
        if (now && now.join(',') !== e.info.gpuIds.join(',')) {
          // Re-reserved on different devices: rebuild the command so CUDA_VISIBLE_DEVICES follows.
          e.info.gpuIds = now;
          e.cmd = this.commandFor(e.spec, e.info.category, e.info.host, e.info.port, now);
          e.info.command = shown(e.cmd);
        }
      }
      this.setState(e, EngineState.STARTING, 'restarting');
      try {
        await this.launch(e);
      } catch (err) {
        e.failure = 'restart';
        throw err;
      }
      return snapshot(e);
    });
  }

  private async killProcess(e: Entry, graceMs: number): Promise<void> {
    const pid = e.child?.pid ?? e.info.pid;
    if (pid === undefined) return;
    e.unwatch?.();
    e.unwatch = undefined;
    const how = await terminate(pid, graceMs, e.child);
    if (how !== 'exited') this.recordEvent(e.info.id, 'info', how === 'killed' ? `pid ${pid} ignored SIGTERM for ${graceMs} ms: SIGKILL` : `pid ${pid} did not exit after SIGKILL`);
    if (!e.child) {
      // adopted: no exit event will come
      e.info.pid = undefined;
      this.persist();
    }
  }

  private async releaseResources(e: Entry): Promise<void> {
    this.ports.releaseOwner(e.info.id);
    this.gpus?.release(e.info.id);
    if (e.info.pid === undefined) this.persist();
  }

  /** SIGTERM, then SIGKILL after the grace period; waits for the exit; releases port and GPUs. */
  async stop(id: string, options: { graceMs?: number } = {}): Promise<EngineInfo> {
    const e = this.get(id);
    e.stopRequested = true; // makes a start in progress give up at its next poll
    return this.serial(e, async () => {
      if (e.info.state === EngineState.STOPPED) return snapshot(e);
      this.setState(e, EngineState.STOPPING, 'stop requested');
      await this.killProcess(e, options.graceMs ?? this.stopGraceMs);
      await this.releaseResources(e);
      this.setState(e, EngineState.STOPPED, 'stopped; port and GPUs released');
      return snapshot(e);
    });
  }

  /** Stops every engine (FAILED ones too, to release what they hold). */
  async stopAll(options: { graceMs?: number } = {}): Promise<void> {
    await Promise.all(
      [...this.entries.values()]
        .filter((e) => e.info.state !== EngineState.STOPPED)
        .map((e) => this.stop(e.info.id, options).catch((err: unknown) => this.log.error({ err, engineId: e.info.id }, 'stop failed'))),
    );
  }

  /** Forgets a stopped engine (stopping it first if needed). */
  async remove(id: string): Promise<void> {
    await this.stop(id);
    this.entries.delete(id);
  }

  /** Removes STOPPED and FAILED engines; returns their ids. */
  async prune(): Promise<string[]> {
    const ids = [...this.entries.values()].filter((e) => e.info.state === EngineState.STOPPED || e.info.state === EngineState.FAILED).map((e) => e.info.id);
    for (const id of ids) await this.remove(id);
    return ids;
  }

  // ------------------------------------------------------------------ recovery

  /**
   * Reads the state file left by an earlier run. A process that is alive, still runs the recorded command and
   * answers its health check is adopted (RUNNING, port and GPUs re-reserved); one that is alive but unhealthy
   * is stopped; dead entries are pruned. Entries of another live control plane are left alone.
   */
  async recover(options: { healthTimeoutMs?: number; graceMs?: number } = {}): Promise<RecoverReport> {
    const report: RecoverReport = { adopted: [], stopped: [], pruned: [], skipped: [], warnings: [] };
    const { engines, warning } = readStateFile(this.stateFile);
    if (warning) report.warnings.push(warning);
    this.foreign = [];
    await recoverRecords(engines, {
      ports: this.ports,
      log: this.log,
      healthTimeoutMs: options.healthTimeoutMs ?? 3000,
      graceMs: options.graceMs ?? Math.min(this.stopGraceMs, 5000),
      isCurrent: (rec) => this.entries.has(rec.id) && this.entries.get(rec.id)?.info.pid === rec.pid,
      hasEngine: (id) => this.entries.has(id),
      keepForeign: (rec) => this.foreign.push(rec),
      adopt: (rec, detail) => this.adopt(rec, detail),
    }, report);
    this.persist();
    return report;
  }

  private adopt(rec: StoredEngine, detail: string): void {
    this.ports.claim(rec.port, rec.id);
    if (rec.gpuIds.length && this.gpus) this.gpus.restore({ engineId: rec.id, gpuIds: rec.gpuIds, memoryGbPerGpu: rec.memoryGbPerGpu ?? 0 });
    const entry = adoptedEntry(rec, detail, this.now().toISOString());
    this.entries.set(rec.id, entry);
    // Not our child: its exit sends no event, so its pid is polled instead.
    entry.unwatch = watchPid(rec.pid, this.options.pidPollMs ?? 500, () => {
      entry.unwatch = undefined;
      if (entry.child || entry.info.pid !== rec.pid) return; // replaced meanwhile
      processGone(entry, `adopted process ${rec.pid} is gone`, this.launchContext);
    });
    this.recordEvent(rec.id, 'adopted', `adopted pid ${rec.pid} on port ${rec.port} from an earlier run (started ${rec.startedAt})`, EngineState.RUNNING);
    this.log.info({ engineId: rec.id, pid: rec.pid, port: rec.port }, 'adopted engine from an earlier run');
  }
}
