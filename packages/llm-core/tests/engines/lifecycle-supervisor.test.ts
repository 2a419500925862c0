import { backoffDelay, EngineSupervisor, type SupervisedTarget } from '../../src/engines/lifecycle';
import { EngineState } from '../../src';

/** A scripted engine fleet: health answers and restart outcomes are set by the test. */
class FakeTarget implements SupervisedTarget {
  states = new Map<string, EngineState>();
  healthy = new Map<string, boolean>();
  restartOutcome: (id: string) => boolean = () => true;
  restartsAt: number[] = [];
  failedAt: number | undefined;
  failedReason = '';
  events: string[] = [];

  constructor(private readonly t0: number) {}

  supervisedIds(): string[] {
    return [...this.states].filter(([, s]) => s === EngineState.RUNNING || s === EngineState.FAILED).map(([id]) => id);
  }
  getState(id: string): EngineState | undefined {
    return this.states.get(id);
  }
  async healthCheck(id: string): Promise<boolean> {
    return this.healthy.get(id) ?? false;
  }
  async restart(id: string): Promise<void> {
    this.restartsAt.push(Date.now() - this.t0);
    if (!this.restartOutcome(id)) {
      if (this.states.get(id) !== EngineState.STOPPED) this.states.set(id, EngineState.FAILED);
      throw new Error('process exited (code 1) before it became healthy');
    }
    this.states.set(id, EngineState.RUNNING);
    this.healthy.set(id, true);
  }
  markFailed(id: string, reason: string): void {
    this.failedAt = Date.now() - this.t0;
    this.failedReason = reason;
    this.states.set(id, EngineState.FAILED);
  }
  recordEvent(_id: string, _type: string, message: string): void {
    this.events.push(`${Date.now() - this.t0} ${message}`);
  }
  exitListeners = new Set<(id: string, detail: string) => void>();
  onProcessExit(listener: (id: string, detail: string) => void): () => void {
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }
  /** The process of a RUNNING engine exits: RESTARTING while someone listens (as the lifecycle manager does). */
  exit(id: string): void {
    this.healthy.set(id, false);
    this.states.set(id, this.exitListeners.size > 0 ? EngineState.RESTARTING : EngineState.FAILED);
    for (const l of this.exitListeners) l(id, 'signal SIGKILL');
  }
  restartingAt: number[] = [];
  markRestarting(id: string): void {
    this.restartingAt.push(Date.now() - this.t0);
    const s = this.states.get(id);
    if (s === EngineState.RUNNING || s === EngineState.FAILED) this.states.set(id, EngineState.RESTARTING);
  }
}

describe('backoff', () => {
  it('doubles from the base: 1 s, 2 s, 4 s …, capped', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 1000))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffDelay(10, 1000, 30_000)).toBe(30_000);
  });
});

describe('EngineSupervisor (fake timers)', () => {
  let target: FakeTarget;
  let sup: EngineSupervisor | undefined;

  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
    target = new FakeTarget(Date.now());
  });
  afterEach(async () => {
    await sup?.stop();
    sup = undefined;
    jest.useRealTimers();
  });

  it('defaults match F-211', () => {
    sup = new EngineSupervisor(target);
    expect(sup.options).toMatchObject({ autoRestart: true, maxRestartAttempts: 3, backoffBaseMs: 1000 });
  });

  it('restarts after N consecutive failures with 1 s, 2 s, 4 s backoff, then marks the engine FAILED', async () => {
    target.states.set('e1', EngineState.RUNNING);
    target.healthy.set('e1', false);
    target.restartOutcome = () => false; // crashes every time
    sup = new EngineSupervisor(target, { intervalMs: 1000, failureThreshold: 2, maxRestartAttempts: 3, backoffBaseMs: 1000 });
    sup.start();
    await jest.advanceTimersByTimeAsync(1000); // check 1: failure 1
    expect(target.restartsAt).toEqual([]);
    await jest.advanceTimersByTimeAsync(1000); // check 2: failure 2 → restart in 1 s
    await jest.advanceTimersByTimeAsync(999);
    expect(target.restartsAt).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(target.restartsAt).toEqual([3000]);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(target.restartsAt).toEqual([3000, 5000, 9000]); // +2 s, +4 s
    expect(target.failedAt).toBe(9000);
    expect(target.failedReason).toMatch(/giving up after 3 restart attempt/);
    expect(target.events.filter((e) => /scheduled/.test(e))).toEqual([
      '2000 restart attempt 1/3 scheduled in 1000 ms (backoff)',
      '3000 restart attempt 2/3 scheduled in 2000 ms (backoff)',
      '5000 restart attempt 3/3 scheduled in 4000 ms (backoff)',
    ]);
    expect(sup.watchOf('e1')?.gaveUp).toBe(true);
    expect(target.states.get('e1')).toBe(EngineState.FAILED);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(target.restartsAt).toHaveLength(3); // and never restarted again
  });

  it('a successful restart heals the engine, and a healthy check resets the attempt budget', async () => {
    target.states.set('e1', EngineState.RUNNING);
    target.healthy.set('e1', false);
    sup = new EngineSupervisor(target, { intervalMs: 500, failureThreshold: 1, backoffBaseMs: 100 });
    sup.start();
    await jest.advanceTimersByTimeAsync(600);
    expect(target.restartsAt).toEqual([600]);
    expect(target.states.get('e1')).toBe(EngineState.RUNNING);
    expect(sup.watchOf('e1')?.attempts).toBe(1);
    await jest.advanceTimersByTimeAsync(500); // t=1100, after the healthy check at t=1000
    expect(sup.watchOf('e1')).toMatchObject({ failures: 0, attempts: 0 });
    // dies again later: the budget starts from attempt 1 (backoff 100 ms again): check at 1500, restart at 1600
    target.healthy.set('e1', false);
    await jest.advanceTimersByTimeAsync(500);
    expect(target.restartsAt).toEqual([600, 1600]);
    expect(target.events.filter((e) => /scheduled/.test(e))).toEqual([
      '500 restart attempt 1/3 scheduled in 100 ms (backoff)',
      '1500 restart attempt 1/3 scheduled in 100 ms (backoff)',
    ]);
  });

  it('healthy engines are left alone; autoRestart=false only watches', async () => {
    target.states.set('ok', EngineState.RUNNING);
    target.healthy.set('ok', true);
    target.states.set('bad', EngineState.RUNNING);
    target.healthy.set('bad', false);
    sup = new EngineSupervisor(target, { intervalMs: 100, failureThreshold: 1, autoRestart: false });
    sup.start();
    await jest.advanceTimersByTimeAsync(1000);
    expect(target.restartsAt).toEqual([]);
    expect(sup.watchOf('bad')?.failures).toBeGreaterThanOrEqual(5);
    expect(sup.watchOf('ok')?.failures).toBe(0);
  });

  it('an engine stopped during its backoff is not brought back', async () => {
    target.states.set('e1', EngineState.RUNNING);
    target.healthy.set('e1', false);
    sup = new EngineSupervisor(target, { intervalMs: 100, failureThreshold: 1, backoffBaseMs: 1000 });
    sup.start();
    await jest.advanceTimersByTimeAsync(100); // restart scheduled for t=1100
    target.states.set('e1', EngineState.STOPPED);
    await jest.advanceTimersByTimeAsync(2000);
    expect(target.restartsAt).toEqual([]);
  });

  it('an engine stopped while a restart is running is not retried', async () => {
    target.states.set('e1', EngineState.RUNNING);
    target.healthy.set('e1', false);
    target.restartOutcome = (id) => {
      target.states.set(id, EngineState.STOPPED); // someone stopped it mid-start: the start fails
      return false;
    };
    sup = new EngineSupervisor(target, { intervalMs: 100, failureThreshold: 1, backoffBaseMs: 100 });
    sup.start();
    await jest.advanceTimersByTimeAsync(5000);
    expect(target.restartsAt).toEqual([200]);
    expect(target.events.filter((e) => /scheduled/.test(e))).toHaveLength(1);
    expect(target.failedAt).toBeUndefined();
  });

  it('stop() cancels pending restarts', async () => {
    target.states.set('e1', EngineState.RUNNING);
    target.healthy.set('e1', false);
    sup = new EngineSupervisor(target, { intervalMs: 100, failureThreshold: 1, backoffBaseMs: 1000 });
    sup.start();
    await jest.advanceTimersByTimeAsync(100);
    await sup.stop();
    await jest.advanceTimersByTimeAsync(5000);
    expect(target.restartsAt).toEqual([]);
  });

  it('restarts on the exit event itself, not on a health round: 1 s, then 2 s, 4 s, RESTARTING meanwhile, then FAILED', async () => {
    target.states.set('e1', EngineState.RUNNING);
    target.healthy.set('e1', true);
    target.restartOutcome = () => false;
    // Health rounds every minute: only the exit event can explain a restart within seconds.
    sup = new EngineSupervisor(target, { intervalMs: 60_000, failureThreshold: 3, maxRestartAttempts: 3, backoffBaseMs: 1000 });
    sup.start();
    await jest.advanceTimersByTimeAsync(500);
    target.exit('e1');
    expect(target.states.get('e1')).toBe(EngineState.RESTARTING);
    await jest.advanceTimersByTimeAsync(999);
    expect(target.restartsAt).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(target.restartsAt).toEqual([1500]);
    // The failed attempt left it FAILED for a moment; the next one is pending, so it shows RESTARTING again.
    expect(target.states.get('e1')).toBe(EngineState.RESTARTING);
    await jest.advanceTimersByTimeAsync(2000);
    expect(target.restartsAt).toEqual([1500, 3500]);
    expect(target.states.get('e1')).toBe(EngineState.RESTARTING);
    await jest.advanceTimersByTimeAsync(4000);
    expect(target.restartsAt).toEqual([1500, 3500, 7500]);
    expect(target.states.get('e1')).toBe(EngineState.FAILED);
    expect(target.failedReason).toMatch(/giving up after 3 restart attempt/);
    expect(target.restartingAt).toEqual([500, 1500, 3500]);
  });

  it('an exit heals in one backoff when the restart works, and the next exit starts the budget again once healthy', async () => {
    target.states.set('e1', EngineState.RUNNING);
    target.healthy.set('e1', true);
    sup = new EngineSupervisor(target, { intervalMs: 5000, failureThreshold: 3, backoffBaseMs: 1000 });
    sup.start();
    target.exit('e1');
    await jest.advanceTimersByTimeAsync(1000);
    expect(target.restartsAt).toEqual([1000]);
    expect(target.states.get('e1')).toBe(EngineState.RUNNING);
    await jest.advanceTimersByTimeAsync(5000); // a healthy round resets the budget
    target.exit('e1');
    await jest.advanceTimersByTimeAsync(1000);
    expect(target.restartsAt).toEqual([1000, 7000]);
    expect(target.events.filter((e) => /scheduled/.test(e))).toEqual(['0 restart attempt 1/3 scheduled in 1000 ms (backoff)', '6000 restart attempt 1/3 scheduled in 1000 ms (backoff)']);
  });

  it('with autoRestart off it does not listen for exits (the engine is FAILED, not RESTARTING)', async () => {
    target.states.set('e1', EngineState.RUNNING);
    sup = new EngineSupervisor(target, { autoRestart: false });
    sup.start();
    target.exit('e1');
    expect(target.states.get('e1')).toBe(EngineState.FAILED);
    await sup.stop();
    expect(target.exitListeners.size).toBe(0);
  });

  it('rejects nonsensical settings', () => {
    expect(() => new EngineSupervisor(target, { failureThreshold: 0 })).toThrow(/failureThreshold/);
  });
});
