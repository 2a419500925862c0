// Auto-restart (F-211): an engine whose process exits is restarted as soon as the exit is known (the child's exit
// event, or an adopted pid found dead), and a background loop health-checks the others, restarting one after N
// consecutive failures. Restarts back off exponentially (1 s, 2 s, 4 s …); meanwhile the engine is RESTARTING,
// and after the last attempt the supervisor gives up — FAILED, logged. Pure logic over an injected target and
// clock, so the ControlPlaneManager can host it and tests can drive it.
import pino, { type Logger } from 'pino';
import type { EngineEvent } from './types';
import { EngineState } from './types';

/** What the supervisor needs from the lifecycle manager (EngineLifecycleManager satisfies it). */
export interface SupervisedTarget {
  supervisedIds(): string[];
  getState(id: string): EngineState | undefined;
  healthCheck(id: string, timeoutMs?: number): Promise<boolean>;
  restart(id: string): Promise<unknown>;
  markFailed(id: string, reason: string): void;
  recordEvent(id: string, type: EngineEvent['type'], message: string): void;
  /** Subscribes to exits of engines' processes while RUNNING; returns the unsubscribe function. */
  onProcessExit?(listener: (id: string, detail: string) => void): () => void;
  /** Shows that a restart is pending (state RESTARTING). */
  markRestarting?(id: string, reason: string): void;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface SupervisorOptions {
  autoRestart?: boolean;
  maxRestartAttempts?: number;
  /** Time between health-check rounds. */
  intervalMs?: number;
  /** Consecutive failed checks before a restart. */
  failureThreshold?: number;
  /** First backoff; doubles with each attempt. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  healthTimeoutMs?: number;
  clock?: Clock;
  logger?: Logger;
}

export const SUPERVISOR_DEFAULTS = {
  autoRestart: true,
  maxRestartAttempts: 3,
  intervalMs: 5000,
  failureThreshold: 3,
  backoffBaseMs: 1000,
  backoffMaxMs: 60_000,
  healthTimeoutMs: 5000,
} as const;

/** Delay before restart attempt n (1-based): base · 2^(n−1), capped. */
export function backoffDelay(attempt: number, baseMs: number, maxMs = Number.POSITIVE_INFINITY): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

interface Watch {
  failures: number;
  /** Restart attempts since the engine was last seen healthy. */
  attempts: number;
  /** A restart is scheduled or running: health rounds leave it alone meanwhile. */
  restarting: boolean;
  timer?: unknown;
  gaveUp: boolean;
}

export class EngineSupervisor {
  private readonly opts: Required<Omit<SupervisorOptions, 'clock' | 'logger'>>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly watches = new Map<string, Watch>();
  private loopTimer: unknown;
  private unsubscribeExit?: () => void;
  private running = false;
  private round: Promise<void> | undefined;

  constructor(
    private readonly target: SupervisedTarget,
    options: SupervisorOptions = {},
  ) {
    this.opts = {
      autoRestart: options.autoRestart ?? SUPERVISOR_DEFAULTS.autoRestart,
      maxRestartAttempts: options.maxRestartAttempts ?? SUPERVISOR_DEFAULTS.maxRestartAttempts,
      intervalMs: options.intervalMs ?? SUPERVISOR_DEFAULTS.intervalMs,
      failureThreshold: options.failureThreshold ?? SUPERVISOR_DEFAULTS.failureThreshold,
      backoffBaseMs: options.backoffBaseMs ?? SUPERVISOR_DEFAULTS.backoffBaseMs,
      backoffMaxMs: options.backoffMaxMs ?? SUPERVISOR_DEFAULTS.backoffMaxMs,
      healthTimeoutMs: options.healthTimeoutMs ?? SUPERVISOR_DEFAULTS.healthTimeoutMs,
    };
    if (this.opts.maxRestartAttempts < 0 || this.opts.failureThreshold < 1 || this.opts.intervalMs <= 0) {
      throw new Error('supervisor: maxRestartAttempts ≥ 0, failureThreshold ≥ 1 and intervalMs > 0 are required');
    }
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? pino({ level: 'silent' });
  }

  get options(): Readonly<Required<Omit<SupervisorOptions, 'clock' | 'logger'>>> {
    return this.opts;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // Exits are heard from the process itself, not from the next health round.
    if (this.opts.autoRestart) this.unsubscribeExit = this.target.onProcessExit?.((id, detail) => this.onExit(id, detail));
    this.schedule();
  }

  /** Stops the loop and cancels scheduled restarts; waits for a health round in progress. */
  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribeExit?.();
    this.unsubscribeExit = undefined;
    if (this.loopTimer !== undefined) this.clock.clearTimeout(this.loopTimer);
    this.loopTimer = undefined;
    for (const w of this.watches.values()) if (w.timer !== undefined) this.clock.clearTimeout(w.timer);
    this.watches.clear();
    await this.round;
  }

  /** Failure and attempt counters of one engine (for status and tests). */
  watchOf(id: string): Readonly<Omit<Watch, 'timer'>> | undefined {
    const w = this.watches.get(id);
    return w && { failures: w.failures, attempts: w.attempts, restarting: w.restarting, gaveUp: w.gaveUp };
  }

  private schedule(): void {
    if (!this.running) return;
    this.loopTimer = this.clock.setTimeout(() => {
      this.round = this.checkOnce().finally(() => this.schedule());
    }, this.opts.intervalMs);
  }

  private watch(id: string): Watch {
    let w = this.watches.get(id);
    if (!w) {
      w = { failures: 0, attempts: 0, restarting: false, gaveUp: false };
      this.watches.set(id, w);
    }
    return w;
  }

  /** One health round over every supervised engine (also callable directly). */
  async checkOnce(): Promise<void> {
    const ids = this.target.supervisedIds();
    for (const id of [...this.watches.keys()]) {
      const w = this.watches.get(id);
      if (!ids.includes(id) && !w?.restarting) this.watches.delete(id); // stopped, removed or given up
    }
    await Promise.all(
      ids.map(async (id) => {
        const w = this.watch(id);
        if (w.restarting || w.gaveUp) return;
        let ok: boolean;
        try {
          ok = await this.target.healthCheck(id, this.opts.healthTimeoutMs);
        } catch {
          ok = false;
        }
        if (w.restarting || !this.running) return;
        if (ok) {
          w.failures = 0;
          w.attempts = 0;
          return;
        }
        w.failures += 1;
        if (w.failures >= this.opts.failureThreshold && this.opts.autoRestart) this.scheduleRestart(id, w);
      }),
    );
  }

  /** An engine's process exited while RUNNING: its restart is scheduled now (attempt n after n−1 failed ones). */
  private onExit(id: string, detail: string): void {
    if (!this.running) return;
    const w = this.watch(id);
    if (w.restarting || w.gaveUp) return;
    this.log.warn({ engineId: id, detail }, 'engine process exited');
    w.failures = 0;
    this.scheduleRestart(id, w);
  }

  private scheduleRestart(id: string, w: Watch): void {
    const attempt = w.attempts + 1;
    if (attempt > this.opts.maxRestartAttempts) {
      this.giveUp(id, w);
      return;
    }
    const delay = backoffDelay(attempt, this.opts.backoffBaseMs, this.opts.backoffMaxMs);
    w.restarting = true;
    w.attempts = attempt;
    this.target.recordEvent(id, 'restart', `restart attempt ${attempt}/${this.opts.maxRestartAttempts} scheduled in ${delay} ms (backoff)`);
    this.target.markRestarting?.(id, `restart ${attempt}/${this.opts.maxRestartAttempts} pending`);
    this.log.warn({ engineId: id, attempt, delayMs: delay }, 'engine unhealthy: restart scheduled');
    w.timer = this.clock.setTimeout(() => {
      w.timer = undefined;
      void this.runRestart(id, w, attempt);
    }, delay);
  }

  private async runRestart(id: string, w: Watch, attempt: number): Promise<void> {
    if (!this.running || this.watches.get(id) !== w) return;
    const state = this.target.getState(id);
    if (state !== EngineState.RUNNING && state !== EngineState.FAILED && state !== EngineState.RESTARTING) {
      // stopped or being stopped by someone: not ours to bring back
      this.watches.delete(id);
      return;
    }
    try {
      await this.target.restart(id);
      w.failures = 0;
      w.restarting = false;
      this.target.recordEvent(id, 'restart', `restart attempt ${attempt} succeeded`);
      this.log.info({ engineId: id, attempt }, 'engine restarted');
    } catch (err) {
      this.target.recordEvent(id, 'restart', `restart attempt ${attempt} failed: ${(err as Error).message.split('\n')[0]}`);
      if (!this.running || this.watches.get(id) !== w) return;
      w.restarting = false;
      const now = this.target.getState(id);
      if (now === EngineState.STOPPING || now === EngineState.STOPPED || now === undefined) {
        this.watches.delete(id); // stopped while restarting: the stop wins
        return;
      }
      this.scheduleRestart(id, w);
    }
  }

  private giveUp(id: string, w: Watch): void {
    w.gaveUp = true;
    w.restarting = false;
    const reason = `giving up after ${this.opts.maxRestartAttempts} restart attempt(s)`;
    this.log.error({ engineId: id }, reason);
    this.target.markFailed(id, reason);
  }
}
