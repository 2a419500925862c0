// What control-plane replicas share through a state store, and the contract of a store. The local store keeps
// everything in this process (one replica, the default); a shared one (Redis) lets replicas behind a load
// balancer see the same instances, slots, health, circuits and affinity.
import type { InstanceSpec } from '../manager/registry';
import type { SharedSlots } from '../manager/instance-lease';
import type { InstanceHealth } from '../types';

export type StateStoreKind = 'local' | 'redis';

/** ok: shared; degraded: the store is unreachable and this replica runs on local state; connecting: not yet tried. */
export type StateStoreState = 'ok' | 'degraded' | 'connecting';

export interface StateStoreStatus {
  kind: StateStoreKind;
  state: StateStoreState;
  /** This replica's id in the store (announced with the engines it launches). */
  replicaId: string;
  /** The store's address, password removed. */
  url?: string;
  /** Why the store is degraded (the last connection error). */
  error?: string;
  /** When the state last changed (epoch ms). */
  since: number;
  /**
   * Replicas alive (this one included) at the last heartbeat the store answered; kept through an outage, it sets
   * the share of each instance's slots this replica takes while degraded. Absent for the local store.
   */
  replicasSeen?: number;
}

/** An instance as replicas share it: the full registration (back-end key included) and who brought it. */
export interface SharedInstanceEntry {
  spec: InstanceSpec & { id: string };
  /** engine: launched by `replicaId`, which supervises it; backend: registered from outside, owned by no replica. */
  origin: 'engine' | 'backend';
  replicaId: string;
}

/** Changes made through one replica, passed to the others. */
export type SharedEvent =
  | { type: 'instance'; entry: SharedInstanceEntry }
  | { type: 'withdraw'; id: string }
  | { type: 'health'; id: string; health: InstanceHealth }
  | { type: 'circuit'; id: string; state: 'open' | 'closed'; openedAt: number }
  | { type: 'affinity'; router: string; keys: string[]; instanceId: string };

/** What a store holds, read when it (re)connects. */
export interface SharedSnapshot {
  entries: SharedInstanceEntry[];
  health: Record<string, InstanceHealth>;
  circuits: Record<string, { state: 'open' | 'closed'; openedAt: number }>;
}

/** The replica side of a store: told what other replicas did, asked what this one holds. */
export interface StateStoreListener {
  /** A change made through another replica (`from` is its id). */
  onEvent(event: SharedEvent, from: string): void;
  /** Slots held on an instance by all replicas together, and how many of them are this replica's. */
  onLoad(instanceId: string, held: number, ours: number): void;
  /** (Re)connected, after this replica's own state was written back: what the store holds. */
  onSync(snapshot: SharedSnapshot): void;
  /** The store's state changed (ok, degraded). */
  onStatus(status: StateStoreStatus): void;
  /** Instances this replica knows, whose slot counts the heartbeat reads. */
  instanceIds(): string[];
  /** Entries this replica writes back after a reconnect: the engines it launched (and backends it knows, if absent). */
  ownEntries(): SharedInstanceEntry[];
}

export interface StateStore extends SharedSlots {
  readonly kind: StateStoreKind;
  readonly replicaId: string;
  status(): StateStoreStatus;
  /** Connects; resolves once connected or found unreachable (then degraded and retrying by itself). */
  start(listener: StateStoreListener): Promise<void>;
  /** Shares a change with the other replicas (stored where a late replica must find it, published always). */
  publish(event: SharedEvent): void;
  /** Replicas among `ids` that are alive (heartbeat within the lease TTL); all of them for a local store. */
  aliveReplicas(ids: readonly string[]): Promise<Set<string>>;
  close(): Promise<void>;
}
