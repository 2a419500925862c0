// Real-time driver of the scheduler: one loop per engine. Each step takes its duration from the model,
// sleeps that long times the time scale, then delivers the step's tokens. Sleeping towards absolute
// deadlines (not "duration after the callback ran") keeps the pace of the model when timers run late on a
// loaded machine; a loop that fell far behind restarts its clock instead of bursting to catch up.
import { BatchScheduler, type SeqSpec, type SchedulerStats } from './scheduler';
import type { EngineModelParams } from './params';

export interface SeqListener {
  /** A token was sampled; `first` marks the end of the prefill. */
  onToken(first: boolean): void;
  /** The sequence produced its last token and left the engine. */
  onFinish(): void;
  /** Admitted to the running batch, with the prompt tokens the prefix cache covered. */
  onAdmit?(cachedTokens: number): void;
}

const MAX_LAG_MS = 50;

export class EngineLoop {
  readonly scheduler: BatchScheduler;
  private readonly listeners = new Map<string, SeqListener>();
  private timer: NodeJS.Timeout | undefined;
  private clockMs = 0;
  private stopped = false;

  constructor(readonly params: EngineModelParams) {
    this.scheduler = new BatchScheduler(params);
  }

  submit(spec: SeqSpec, listener: SeqListener): void {
    if (this.stopped) throw new Error('engine loop stopped');
    this.scheduler.add(spec);
    this.listeners.set(spec.id, listener);
    this.kick();
  }

  cancel(id: string): void {
    if (this.listeners.delete(id)) this.scheduler.cancel(id);
    this.kick(); // a cancelled sequence may have been the one blocking admission
  }

  stats(): SchedulerStats {
    return this.scheduler.stats();
  }

  /** Stop stepping; sequences still inside are abandoned (the server drains before it stops the loop). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Plan and schedule the next step; `continuing` when called right after a step (back-to-back steps). */
  private kick(continuing = false): void {
    if (this.timer || this.stopped || !this.scheduler.hasWork()) return;
    const plan = this.scheduler.plan();
    if (plan.durationMs === 0) return; // nothing admissible; a cancel or a finish will kick again
    const now = performance.now();
    // A step after an idle period starts now; back-to-back steps keep the model's clock unless far behind.
    if (!continuing || now - this.clockMs > MAX_LAG_MS) this.clockMs = now;
    const deadline = this.clockMs + plan.durationMs * this.params.timeScale;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.clockMs = deadline;
      const result = this.scheduler.commit(plan);
      for (const a of result.admitted) this.listeners.get(a.id)?.onAdmit?.(a.cachedTokens);
      for (const t of result.tokens) {
        const l = this.listeners.get(t.id);
        if (!l) continue;
        l.onToken(t.first);
        if (t.finished) {
          this.listeners.delete(t.id);
          l.onFinish();
        }
      }
      this.kick(true);
    }, Math.max(0, deadline - now));
  }
}
