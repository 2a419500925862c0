// The calls still waiting for one engine's answer (see EngineExecutor.cutWaiting): a list linked through the calls
// themselves. Every call passes through it, so it costs no node, no WeakMap entry and no Map/Set hash table (whose
// replaced tables V8 keeps linked to their successors: ref-list.ts); a call that leaves forgets its neighbours, so a
// departed call keeps nothing alive.

/** A call as the list links it: the fields belong to the list that holds the call. */
export interface WaitingLink {
  waitingIn: WaitingCalls | undefined;
  waitingPrev: WaitingLink | undefined;
  waitingNext: WaitingLink | undefined;
  abort(reason: unknown): void;
}

export class WaitingCalls {
  private head: WaitingLink | undefined = undefined;
  private tail: WaitingLink | undefined = undefined;

  /** Adds `call` as the newest (a call already in a list stays where it is). */
  add(call: WaitingLink): void {
    if (call.waitingIn) return;
    call.waitingIn = this;
    call.waitingPrev = this.tail;
    call.waitingNext = undefined;
    if (this.tail) this.tail.waitingNext = call;
    else this.head = call;
    this.tail = call;
  }

  /** Takes `call` out, if it is in this list. */
  remove(call: WaitingLink): void {
    if (call.waitingIn !== this) return;
    const prev = call.waitingPrev;
    const next = call.waitingNext;
    if (prev) prev.waitingNext = next;
    else this.head = next;
    if (next) next.waitingPrev = prev;
    else this.tail = prev;
    call.waitingIn = call.waitingPrev = call.waitingNext = undefined;
  }

  /** The calls, oldest first, copied: aborting one takes it out of the list. */
  calls(): WaitingLink[] {
    const out: WaitingLink[] = [];
    for (let c = this.head; c; c = c.waitingNext) out.push(c);
    return out;
  }
}
