// The abort signal of one HTTP request: it fires when the client goes away before its response is complete, and
// everything the request started (its place in the queue, the upstream call, a stream) listens to it.
//
// Neither an AbortController's signal nor an EventTarget: Node 20 makes that signal by swapping the prototype of a
// fresh EventTarget, which V8 takes on a slow path (~3 µs and a dictionary-mode object per request), and an
// EventTarget's own addEventListener / removeEventListener (the upstream call adds one listener per request and
// removes it when the call ends) cost ~0.1 µs and a listener record each, against a few nanoseconds here. What sage's
// code does with a request's signal — `aborted`, `reason`, `throwIfAborted()`, 'abort' listeners (functions or
// handleEvent objects, `once`, removed again), `onabort` — behaves as on an AbortSignal. It is not a platform
// AbortSignal for Node's own composition: AbortSignal.any() does not follow it (sage composes no signals).

// Node's typings keep these names to themselves: taken from EventTarget's own signature.
type AbortListener = Parameters<EventTarget['addEventListener']>[1];
type AddListenerOptions = Parameters<EventTarget['addEventListener']>[2];

interface Registered {
  listener: AbortListener;
  capture: boolean;
  once: boolean;
  /** Set when it is removed, so a dispatch under way skips it (as EventTarget does). */
  removed: boolean;
}

const captureOf = (options: boolean | EventListenerOptions | undefined): boolean => (typeof options === 'boolean' ? options : options?.capture === true);

export class ClientAbortSignal implements AbortSignal {
  aborted = false;
  reason: unknown = undefined;
  onabort: ((this: AbortSignal, ev: Event) => unknown) | null = null;
  /** The 'abort' listeners, in the order they were added (the only event an abort signal dispatches). */
  private listeners: Registered[] | undefined = undefined;

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }

  /** Aborts once: `reason` is kept, `onabort` and the 'abort' listeners run (as AbortController.abort does). */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const event = new Event('abort');
    this.onabort?.call(this, event);
    this.dispatchEvent(event);
  }

  addEventListener(type: string, listener: AbortListener | null, options?: AddListenerOptions): void {
    if (type !== 'abort' || !listener) return;
    const capture = captureOf(options);
    // The same listener (and capture flag) twice is one listener, as on an EventTarget.
    if (this.indexOf(listener, capture) >= 0) return;
    const opts = typeof options === 'object' ? options : undefined;
    const remover = opts?.signal;
    if (remover?.aborted) return;
    const registered: Registered = { listener, capture, once: opts?.once === true, removed: false };
    // A request's signal has one listener or two: a literal array holds just them, where a push onto an empty one
    // would reserve room for seventeen.
    if (this.listeners) this.listeners.push(registered);
    else this.listeners = [registered];
    remover?.addEventListener('abort', () => this.removeEventListener(type, listener, capture), { once: true });
  }

  removeEventListener(type: string, listener: AbortListener | null, options?: boolean | EventListenerOptions): void {
    if (type !== 'abort' || !listener) return;
    const i = this.indexOf(listener, captureOf(options));
    if (i < 0) return;
    const list = this.listeners as Registered[];
    (list[i] as Registered).removed = true;
    // Shifted down in place: splice would make an array of the one removed.
    for (let j = i + 1; j < list.length; j++) list[j - 1] = list[j] as Registered;
    list.length -= 1;
  }

  private indexOf(listener: AbortListener, capture: boolean): number {
    const list = this.listeners;
    if (list) for (let i = 0; i < list.length; i++) if ((list[i] as Registered).listener === listener && (list[i] as Registered).capture === capture) return i;
    return -1;
  }

  /** Calls the 'abort' listeners with `event`; one that throws is reported as an uncaught exception, as EventTarget does. */
  dispatchEvent(event: Event): boolean {
    const list = this.listeners;
    if (event.type !== 'abort' || !list || list.length === 0) return !event.defaultPrevented;
    for (const r of list.slice()) {
      if (r.removed) continue;
      if (r.once) this.removeEventListener('abort', r.listener, r.capture);
      try {
        if (typeof r.listener === 'function') r.listener.call(this, event);
        else r.listener.handleEvent(event);
      } catch (err) {
        process.nextTick(() => {
          throw err;
        });
      }
    }
    return !event.defaultPrevented;
  }
}
