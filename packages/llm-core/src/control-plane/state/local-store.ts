// The embedded default: no store. This replica alone holds its instances, slots, health, circuits and affinity,
// exactly as a single control plane always did; every shared operation is a no-op.
import { newReplicaId } from './replica-id';
import type { StateStore, StateStoreStatus } from './types';

export class LocalStateStore implements StateStore {
  readonly kind = 'local' as const;
  /** Slots are counted by this replica's registry alone (a lease skips acquire and release). */
  readonly local = true;
  readonly replicaId: string;
  private readonly since = Date.now();

  constructor(replicaId = newReplicaId()) {
    this.replicaId = replicaId;
  }

  status(): StateStoreStatus {
    return { kind: 'local', state: 'ok', replicaId: this.replicaId, since: this.since };
  }

  async start(): Promise<void> {}

  /** The registry's own count already decided: there is nobody else to ask. */
  acquire(): boolean {
    return true;
  }

  release(): void {}

  publish(): void {}

  async aliveReplicas(ids: readonly string[]): Promise<Set<string>> {
    return new Set(ids);
  }

  async close(): Promise<void> {}
}
