// The control plane's background timers: each runs once unless cancelled, `pending` counts those still waiting,
// and close() stops every one (and any set after it).
import { DeferredTimers } from '../../src/control-plane/manager/deferred-timers';

describe('DeferredTimers', () => {
  it('runs a timer once, counts the waiting ones, and a cancel stops only its own timer', async () => {
    const timers = new DeferredTimers();
    const ran: string[] = [];
    let fired!: () => void;
    const done = new Promise<void>((resolve) => (fired = resolve));
    const cancelA = timers.later(() => ran.push('a'), 1);
    timers.later(() => {
      ran.push('b');
      fired();
    }, 5);
    expect(timers.pending).toBe(2);
    cancelA();
    cancelA(); // a second cancel is a no-op
    expect(timers.pending).toBe(1);
    await done;
    expect(ran).toEqual(['b']);
    expect(timers.pending).toBe(0);
    timers.close();
  });

  it('a timer that ran is no longer pending, and cancelling it then does nothing', async () => {
    const timers = new DeferredTimers();
    let cancel!: () => void;
    await new Promise<void>((resolve) => (cancel = timers.later(resolve, 1)));
    expect(timers.pending).toBe(0);
    cancel();
    expect(timers.pending).toBe(0);
    timers.close();
  });

  it('close stops every waiting timer, and later() after close sets none', async () => {
    const timers = new DeferredTimers();
    let ran = 0;
    const cancels = Array.from({ length: 100 }, () => timers.later(() => (ran += 1), 1));
    expect(timers.pending).toBe(100);
    timers.close();
    expect(timers.closed).toBe(true);
    expect(timers.pending).toBe(0);
    timers.later(() => (ran += 1), 1);
    expect(timers.pending).toBe(0);
    for (const c of cancels) c();
    // A timer of 20 ms set after close() had fired by now had the closed ones not been stopped.
    await new Promise<void>((resolve) => setTimeout(resolve, 20));
    expect(ran).toBe(0);
  });
});
