// The bridge between one replica's scheduler and the state store: what this replica registers, the health and
// circuit changes it sees and the affinity its router learns go to the store; what other replicas did comes
// back and is applied to the registry, the breakers and the router, without being sent out again.
//
// Who decides what: a launched engine's health is its replica's call (that replica supervises it; messages
// about it from others are ignored, so that a drain is not undone); a backend belongs to nobody and anyone may
// report on it. An engine whose replica stopped renewing its liveness is taken out of rotation, and withdrawn
// when nobody adopted it within `orphanGraceMs`.
//
// While the store is unreachable each replica counts slots by itself. So that N replicas do not send N times an
// engine's maxConcurrency, each then takes only its share, ceil(maxConcurrency / N) with N the replicas alive at
// its last heartbeat, and counts the rest as held by the others (degradedShare below).
import pino, { type Logger } from 'pino';
import type { ControlPlaneManager } from '../manager';
import type { InstanceSpec } from '../manager/registry';
import type { ExecutionInstance, InstanceHealth } from '../types';
import type { SharedEvent, SharedInstanceEntry, SharedSnapshot, StateStore, StateStoreListener, StateStoreStatus } from './types';

export interface SharedStateSyncOptions {
  store: StateStore;
  manager: ControlPlaneManager;
  logger?: Logger;
  /** How often the liveness of replicas that launched shared engines is checked (default 2000 ms). */
  ownerCheckMs?: number;
  /** How long an engine whose replica is gone stays listed (out of rotation) before it is withdrawn (default 60 s). */
  orphanGraceMs?: number;
}

interface Origin {
  origin: 'engine' | 'backend';
  replicaId: string;
}

const HEALTH_VALUES = new Set<string>(['healthy', 'unhealthy', 'unknown']);

export class SharedStateSync implements StateStoreListener {
  readonly store: StateStore;
  private readonly manager: ControlPlaneManager;
  private readonly log: Logger;
  /** Instances this replica brought: its launched engines and the backends registered through it. */
  private readonly own = new Map<string, 'engine' | 'backend'>();
  /** Instances learnt from the store, with who brought them. */
  private readonly remote = new Map<string, Origin>();
  /** Engines taken out of rotation because their replica is gone: since when. */
  private readonly orphaned = new Map<string, number>();
  private readonly ownerCheckMs: number;
  private readonly orphanGraceMs: number;
  private ownerTimer?: NodeJS.Timeout;
  /** Set while applying another replica's change, so that it is not published back. */
  private applying = false;

  constructor(options: SharedStateSyncOptions) {
    this.store = options.store;
    this.manager = options.manager;
    this.log = options.logger ?? pino({ level: 'silent' });
    this.ownerCheckMs = options.ownerCheckMs ?? 2000;
    this.orphanGraceMs = options.orphanGraceMs ?? 60_000;
    const { manager, store } = this;
    manager.registry.on('change', (reason, id) => {
      if (reason === 'registered') this.leaveToOthers([id]);
      if (this.applying || !HEALTH_VALUES.has(reason) || !this.known(id)) return;
      const inst = manager.registry.get(id);
      if (inst) store.publish({ type: 'health', id, health: inst.health });
    });
    manager.on('circuit', (id, state, openedAt) => {
      if (!this.applying && this.known(id)) store.publish({ type: 'circuit', id, state, openedAt });
    });
    manager.router.memory?.onLearn((keys, instanceId) => {
      if (!this.applying) store.publish({ type: 'affinity', router: manager.router.name, keys: [...keys], instanceId });
    });
  }

  async start(): Promise<void> {
    await this.store.start(this);
    if (this.store.kind === 'local') return;
    this.ownerTimer = setInterval(() => void this.checkOwners(), this.ownerCheckMs);
    this.ownerTimer.unref();
  }

  status(): StateStoreStatus {
    return this.store.status();
  }

  /** This replica registered `id` (a launched engine, or a backend registered through it): every replica serves it. */
  announce(id: string, origin: 'engine' | 'backend'): void {
    const inst = this.manager.registry.get(id);
    if (!inst) return;
    this.own.set(id, origin);
    this.remote.delete(id);
    this.orphaned.delete(id);
    this.store.publish({ type: 'instance', entry: this.entryOf(inst, origin, this.store.replicaId) });
  }

  /** `id` was stopped or removed through this replica: every replica drops it. */
  withdraw(id: string): void {
    this.own.delete(id);
    this.remote.delete(id);
    this.orphaned.delete(id);
    this.store.publish({ type: 'withdraw', id });
  }

  /** Who brought an instance: this replica (`own`), another one, or nobody known (undefined). */
  originOf(id: string): (Origin & { own: boolean }) | undefined {
    const mine = this.own.get(id);
    if (mine) return { origin: mine, replicaId: this.store.replicaId, own: true };
    const r = this.remote.get(id);
    return r ? { ...r, own: false } : undefined;
  }

  /** The engines this replica launched are about to stop with it: every replica drops them. */
  retireEngines(): void {
    for (const [id, origin] of [...this.own]) if (origin === 'engine') this.withdraw(id);
  }

  async close(): Promise<void> {
    if (this.ownerTimer) clearInterval(this.ownerTimer);
    await this.store.close();
  }

  // ------------------------------------------------------------------ StateStoreListener

  onEvent(event: SharedEvent, from: string): void {
    this.apply(() => {
      switch (event.type) {
        case 'instance':
          this.applyEntry(event.entry);
          break;
        case 'withdraw':
          this.applyWithdraw(event.id, from);
          break;
        case 'health':
          this.applyHealth(event.id, event.health, from);
          break;
        case 'circuit':
          if (this.known(event.id)) this.manager.applyCircuit(event.id, event.state, event.openedAt);
          break;
        case 'affinity':
          if (event.router === this.manager.router.name && this.manager.registry.get(event.instanceId)) this.manager.router.memory?.learn(event.keys, event.instanceId);
          break;
      }
    });
  }

  onLoad(instanceId: string, held: number, ours: number): void {
    // A count that arrives after the store went away is stale: the degraded share holds until it is back.
    if (this.store.status().state !== 'ok') return;
    this.manager.registry.setRemoteActive(instanceId, held - ours);
  }

  onSync(snapshot: SharedSnapshot): void {
    this.apply(() => {
      for (const entry of snapshot.entries) this.applyEntry(entry);
      for (const [id, health] of Object.entries(snapshot.health)) {
        const r = this.remote.get(id);
        if (r) this.applyHealth(id, health, r.replicaId);
      }
      for (const [id, c] of Object.entries(snapshot.circuits)) if (this.remote.has(id)) this.manager.applyCircuit(id, c.state, c.openedAt);
    });
  }

  onStatus(status: StateStoreStatus): void {
    // Counts read from a store that cannot be reached any more are stale: while degraded each instance keeps this
    // replica's share only; once the store is back its own counts (read right after) take over.
    const replicas = status.state === 'degraded' ? Math.max(1, status.replicasSeen ?? 1) : 1;
    if (replicas > 1) {
      this.log.warn({ replicas }, `state store unreachable: this replica takes at most ceil(maxConcurrency / ${replicas}) slots of each instance until it is back`);
    }
    this.leaveToOthers();
  }

  instanceIds(): string[] {
    return this.manager.registry.all().map((i) => i.id);
  }

  ownEntries(): SharedInstanceEntry[] {
    const out: SharedInstanceEntry[] = [];
    for (const inst of this.manager.registry.all()) {
      const mine = this.own.get(inst.id);
      const r = this.remote.get(inst.id);
      if (mine) out.push(this.entryOf(inst, mine, this.store.replicaId));
      // A backend outlives the replica it was registered through: anyone who knows it writes it back if lost.
      else if (r?.origin === 'backend') out.push(this.entryOf(inst, 'backend', r.replicaId));
    }
    return out;
  }

  /** Sets, on `ids` (default all), the slots counted as the other replicas': their share while degraded, else none. */
  private leaveToOthers(ids?: readonly string[]): void {
    const status = this.store.status();
    if (status.kind === 'local') return;
    const replicas = status.state === 'degraded' ? Math.max(1, status.replicasSeen ?? 1) : 1;
    const registry = this.manager.registry;
    for (const inst of ids ? ids.map((id) => registry.get(id)) : registry.all()) {
      if (inst) registry.setRemoteActive(inst.id, inst.maxConcurrency - degradedShare(inst.maxConcurrency, replicas));
    }
  }

  // ------------------------------------------------------------------ applying other replicas' changes

  private apply(fn: () => void): void {
    this.applying = true;
    try {
      fn();
    } catch (err) {
      this.log.warn({ err }, 'a change from another replica could not be applied');
    } finally {
      this.applying = false;
    }
  }

  private applyEntry(entry: SharedInstanceEntry): void {
    const id = entry.spec?.id;
    if (!id) return;
    const registry = this.manager.registry;
    const mine = this.own.get(id);
    if (mine) {
      if (entry.replicaId === this.store.replicaId) return;
      if (mine === 'engine') {
        // Two replicas launched engines under one id: each keeps serving its own.
        this.log.warn({ id, replica: entry.replicaId }, 'another replica announced an engine with the id of one this replica launched; keeping this one');
        return;
      }
      this.own.delete(id); // a backend adopted elsewhere
    }
    const known = this.remote.get(id);
    const current = registry.get(id);
    if (known && current && known.replicaId === entry.replicaId && current.baseUrl === normalisedUrl(entry.spec.baseUrl, current.baseUrl)) {
      this.remote.set(id, { origin: entry.origin, replicaId: entry.replicaId });
      this.reviveIfOrphaned(id);
      return;
    }
    if (current) this.manager.unregisterInstance(id);
    this.manager.registerInstance(entry.spec);
    this.remote.set(id, { origin: entry.origin, replicaId: entry.replicaId });
    this.orphaned.delete(id);
  }

  private applyWithdraw(id: string, from: string): void {
    const mine = this.own.get(id);
    if (mine === 'engine') {
      // This replica's engine is running: whoever withdrew it thought this replica gone. Announce it again.
      this.log.warn({ id, from }, 'another replica withdrew an engine this replica runs; announcing it again');
      this.applying = false;
      this.announce(id, 'engine');
      return;
    }
    if (!mine && !this.remote.has(id)) return;
    this.own.delete(id);
    this.remote.delete(id);
    this.orphaned.delete(id);
    this.manager.unregisterInstance(id);
  }

  private applyHealth(id: string, health: InstanceHealth, from: string): void {
    if (!HEALTH_VALUES.has(health)) return;
    if (this.own.get(id) === 'engine') return; // this replica supervises it
    const r = this.remote.get(id);
    const backend = this.own.get(id) === 'backend' || r?.origin === 'backend';
    if (!backend && r?.replicaId !== from) return; // an engine's health comes from the replica that runs it
    if (health === 'unhealthy' && backend) this.manager.probeUntilHealthy(id); // found down elsewhere: probed here too
    else this.manager.registry.setHealth(id, health);
  }

  private reviveIfOrphaned(id: string): void {
    if (!this.orphaned.delete(id)) return;
    this.manager.registry.setHealth(id, 'healthy');
  }

  /** Engines whose replica stopped renewing its liveness leave rotation; past the grace they are withdrawn. */
  private async checkOwners(): Promise<void> {
    const engines = [...this.remote].filter(([, o]) => o.origin === 'engine');
    if (engines.length === 0 || this.store.status().state !== 'ok') return;
    const alive = await this.store.aliveReplicas([...new Set(engines.map(([, o]) => o.replicaId))]);
    const now = Date.now();
    this.apply(() => {
      for (const [id, o] of engines) {
        if (!this.remote.has(id)) continue;
        if (alive.has(o.replicaId)) {
          this.reviveIfOrphaned(id);
          continue;
        }
        const since = this.orphaned.get(id);
        if (since === undefined) {
          this.log.warn({ id, replica: o.replicaId }, 'the replica that launched this engine is gone: out of rotation until a replica adopts it');
          this.orphaned.set(id, now);
          this.manager.registry.setHealth(id, 'unhealthy');
        } else if (now - since > this.orphanGraceMs) {
          this.remote.delete(id);
          this.orphaned.delete(id);
          this.manager.unregisterInstance(id);
          this.store.publish({ type: 'withdraw', id });
        }
      }
    });
  }

  private known(id: string): boolean {
    return this.own.has(id) || this.remote.has(id);
  }

  private entryOf(inst: ExecutionInstance, origin: 'engine' | 'backend', replicaId: string): SharedInstanceEntry {
    const spec: InstanceSpec & { id: string } = {
      id: inst.id,
      baseUrl: inst.baseUrl,
      models: [...inst.models],
      type: inst.type,
      supportedRequestTypes: [...inst.supportedRequestTypes],
      gpuCount: inst.gpuCount,
      gpuIds: [...inst.gpuIds],
      maxConcurrency: inst.maxConcurrency,
      topology: inst.topology,
      costPerHour: inst.costPerHour,
      health: inst.health,
      apiKey: inst.apiKey,
    };
    return { spec, origin, replicaId };
  }
}

/** The slots of an instance one of `replicas` replicas takes while the store is unreachable (at least one). */
export function degradedShare(maxConcurrency: number, replicas: number): number {
  return Math.max(1, Math.ceil(maxConcurrency / Math.max(1, replicas)));
}

/** The registry keeps base URLs normalised (…/v1, no trailing slash): compare like with like. */
function normalisedUrl(raw: string, fallback: string): string {
  try {
    const url = new URL(raw);
    if (!/\/v1\/?$/.test(url.pathname)) url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1`;
    return url.toString().replace(/\/+$/, '');
  } catch {
    return fallback;
  }
}
