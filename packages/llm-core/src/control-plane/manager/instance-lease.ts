// One request's hold on an instance: its place in the registry's active count and the circuit breaker's
// permit (the single probe of a half-open circuit), taken together at dispatch and given back together,
// exactly once, with the verdict on the engine. With a shared state store the slot is also confirmed across
// replicas (SharedSlots) before the request goes out, so `maxConcurrency` holds for all replicas together.
import type { CircuitBreaker } from '../executor';
import type { ExecutionInstance } from '../types';
import type { InstanceRegistry } from './registry';

/** What the engine's answer says about it: success closes its circuit, failure counts against it, none is no verdict. */
export type LeaseVerdict = 'success' | 'failure' | 'none';

/** Figures of a successful request, folded into the instance's latency averages. */
export interface LeaseOutcome {
  latencyMs: number;
  ttftMs?: number;
  outputTokens?: number;
}

/** Slots counted across replicas. The local answer is always yes: the registry's own count already decided. */
export interface SharedSlots {
  /** No other replica counts: the registry's own count decides, and a lease asks nothing and holds nothing here. */
  readonly local?: boolean;
  /** Takes a slot for `leaseId` if fewer than `maxConcurrency` are held on the instance by all replicas together. */
  acquire(instanceId: string, leaseId: string, maxConcurrency: number): boolean | Promise<boolean>;
  /** Gives the slot back (never throws; a store that cannot be reached lets the lease expire). */
  release(instanceId: string, leaseId: string): void;
}

export const LOCAL_SLOTS: SharedSlots = { local: true, acquire: () => true, release: () => undefined };

export interface InstanceLeaseDeps {
  registry: InstanceRegistry;
  breaker: (id: string) => CircuitBreaker;
  slots: SharedSlots;
}

let seq = 0;
/** This process's part of every lease id, made once. */
const PID36 = process.pid.toString(36);

export class InstanceLease {
  private released = false;
  private sharedHeld = false;
  private id: string | undefined = undefined;

  private constructor(
    private readonly deps: InstanceLeaseDeps,
    readonly instanceId: string,
    private readonly maxConcurrency: number,
    private readonly takenAt: number,
    private readonly seq: number,
  ) {}

  /** The registry slot and the breaker permit, or undefined (and nothing held) when the circuit refuses. */
  static take(deps: InstanceLeaseDeps, inst: Pick<ExecutionInstance, 'id' | 'maxConcurrency'>): InstanceLease | undefined {
    if (!deps.breaker(inst.id).acquire()) return undefined;
    deps.registry.begin(inst.id);
    seq = (seq + 1) % Number.MAX_SAFE_INTEGER;
    return new InstanceLease(deps, inst.id, inst.maxConcurrency, Date.now(), seq);
  }

  /** Unique across replicas and restarts; made when first read (only a shared slot store reads it). */
  get leaseId(): string {
    return (this.id ??= `${PID36}.${this.takenAt.toString(36)}.${this.seq.toString(36)}`);
  }

  get isReleased(): boolean {
    return this.released;
  }

  /**
   * Confirms the slot across replicas. False when other replicas hold every slot: the lease is then given back
   * (no verdict) and the request should wait in the queue again.
   */
  async confirm(): Promise<boolean> {
    return this.confirmNow();
  }

  /** confirm(), answered at once (no promise) when the slots answer at once, as local slots do. */
  confirmNow(): boolean | Promise<boolean> {
    if (this.released) return false;
    // Local slots: the registry's own count already decided, and nothing is held elsewhere to give back.
    if (this.deps.slots.local) return true;
    const answer = this.deps.slots.acquire(this.instanceId, this.leaseId, this.maxConcurrency);
    return typeof answer === 'boolean' ? this.confirmed(answer) : answer.catch(() => true).then((ok) => this.confirmed(ok));
  }

  private confirmed(ok: boolean): boolean {
    if (this.released) {
      // Given back while the store answered (shutdown): the shared slot must not stay taken.
      if (ok) this.deps.slots.release(this.instanceId, this.leaseId);
      return false;
    }
    if (!ok) {
      this.release('none');
      return false;
    }
    this.sharedHeld = true;
    return true;
  }

  /** Gives back the slot and the permit with the verdict; later calls do nothing (and return false). */
  release(verdict: LeaseVerdict, outcome?: LeaseOutcome): boolean {
    if (this.released) return false;
    this.released = true;
    const breaker = this.deps.breaker(this.instanceId);
    if (verdict === 'success') breaker.onSuccess();
    else if (verdict === 'failure') breaker.onFailure();
    else breaker.release();
    this.deps.registry.end(this.instanceId, verdict === 'success' ? outcome : undefined);
    if (this.sharedHeld) this.deps.slots.release(this.instanceId, this.leaseId);
    return true;
  }
}
