// The shared state store on Redis (ioredis). Replicas share the instance registry (a hash), instance slots
// (a sorted set of leases per instance, taken and given back by Lua scripts in one round trip, renewed by a
// heartbeat and expiring by themselves when a replica dies), health and circuit states (hashes) and affinity
// (published only). Changes are published on a channel that every replica subscribes to.
//
// When Redis cannot be reached the replica does not stop: it runs on local state (slots granted by its own
// count, changes kept to itself), reports `degraded`, and when the connection comes back writes back what it
// holds (its engines, its leases) and reads what the others hold, by itself.
import { hostname } from 'node:os';
import Redis, { type ChainableCommander } from 'ioredis';
import pino, { type Logger } from 'pino';
import { IdList } from '../id-list';
import { ACQUIRE_LUA, RELEASE_LUA, RENEW_LUA } from './redis-scripts';
import { newReplicaId } from './replica-id';
import type { SharedEvent, SharedInstanceEntry, SharedSnapshot, StateStore, StateStoreListener, StateStoreState, StateStoreStatus } from './types';
import type { InstanceHealth } from '../types';

export interface RedisStateStoreOptions {
  /** redis://[:PASSWORD@]HOST:PORT[/DB] (validated: see parseStateStoreUrl). */
  url: string;
  /** Shown in place of the URL (the password removed). */
  redactedUrl?: string;
  replicaId?: string;
  /** How long a lease outlives its last renewal (default 3000 ms): a dead replica's slots come back after it. */
  leaseTtlMs?: number;
  /** Renewal period (default a quarter of the TTL). */
  heartbeatMs?: number;
  /** How often slot counts are read while a request waits for slots other replicas hold (default 250 ms). */
  blockedPollMs?: number;
  /** Prefix of every key and channel (default "sage:"); replicas of one deployment share it. */
  keyPrefix?: string;
  /** A command that takes longer fails (and the request falls back to local state); default 1000 ms. */
  commandTimeoutMs?: number;
  /** What this replica says about itself in its liveness key (its URL, for an operator). */
  replicaInfo?: Record<string, unknown>;
  logger?: Logger;
}

type Scripted = Redis & {
  sageAcquire(key: string, member: string, max: number, ttl: number, channel: string, prefix: string): Promise<[number, number]>;
  sageRelease(key: string, member: string, channel: string, prefix: string): Promise<number>;
  sageRenew(numKeys: number, ...keysAndArgs: Array<string | number>): Promise<number[]>;
};

interface EventMessage {
  from: string;
  event: SharedEvent;
}

/** Consecutive failed commands on an open connection after which it is dropped and made again. */
const FAILURES_BEFORE_RECONNECT = 3;

export class RedisStateStore implements StateStore {
  readonly kind = 'redis' as const;
  readonly replicaId: string;
  private readonly ttlMs: number;
  private readonly heartbeatMs: number;
  private readonly blockedPollMs: number;
  private readonly prefix: string;
  private readonly log: Logger;
  private readonly cmd: Scripted;
  private readonly sub: Redis;
  private readonly loadChannel: string;
  private readonly eventChannel: string;
  private listener?: StateStoreListener;
  private state: StateStoreState = 'connecting';
  private since = Date.now();
  private lastError?: string;
  private failures = 0;
  private closed = false;
  /** Live replicas at the last heartbeat that reached the store (1, this one, until one does). */
  private replicasSeen = 1;
  /**
   * Leases this replica holds, per instance: renewed by the heartbeat, written back after a reconnect. An IdList
   * per instance, kept when it empties: a Map or Set that every request's lease passes through keeps its replaced
   * tables, and what they held, alive through young collections (id-list.ts).
   */
  private readonly ours = new Map<string, IdList<true>>();
  /** Instances a request was refused on, polled until this time (ms) for slots coming free. */
  private readonly blocked = new Map<string, number>();
  private heartbeat?: NodeJS.Timeout;
  private poll?: NodeJS.Timeout;
  private syncing?: Promise<void>;

  constructor(private readonly options: RedisStateStoreOptions) {
    this.replicaId = options.replicaId ?? newReplicaId();
    this.ttlMs = Math.max(500, options.leaseTtlMs ?? 3000);
    this.heartbeatMs = Math.max(50, Math.min(options.heartbeatMs ?? this.ttlMs / 4, this.ttlMs / 2));
    this.blockedPollMs = Math.max(20, options.blockedPollMs ?? 250);
    this.prefix = options.keyPrefix ?? 'sage:';
    this.loadChannel = `${this.prefix}load`;
    this.eventChannel = `${this.prefix}events`;
    this.log = options.logger ?? pino({ level: 'silent' });
    const common = {
      lazyConnect: true,
      // A command sent while disconnected fails at once, and the request falls back to local state.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2000,
      retryStrategy: (times: number) => (this.closed ? null : Math.min(100 * 2 ** Math.min(times, 4), 1500)),
      connectionName: `sage-${this.replicaId}`.slice(0, 120),
    };
    this.cmd = new Redis(options.url, { ...common, commandTimeout: options.commandTimeoutMs ?? 1000, enableAutoPipelining: true }) as Scripted;
    this.cmd.defineCommand('sageAcquire', { numberOfKeys: 1, lua: ACQUIRE_LUA });
    this.cmd.defineCommand('sageRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
    this.cmd.defineCommand('sageRenew', { lua: RENEW_LUA });
    this.sub = new Redis(options.url, common);
  }

  status(): StateStoreStatus {
    return { kind: 'redis', state: this.state, replicaId: this.replicaId, url: this.options.redactedUrl, error: this.state === 'ok' ? undefined : this.lastError, since: this.since, replicasSeen: this.replicasSeen };
  }

  async start(listener: StateStoreListener): Promise<void> {
    this.listener = listener;
    this.cmd.on('ready', () => {
      this.failures = 0;
      this.syncing = this.resync();
    });
    this.cmd.on('error', (err: Error) => {
      this.lastError = err.message;
    });
    this.cmd.on('close', () => this.degrade(this.lastError ?? 'connection closed'));
    this.sub.on('error', () => undefined); // the command connection reports the outage
    let subscribedBefore = false;
    this.sub.on('ready', () => {
      // Resubscribes after a reconnect too (ioredis also does; subscribing twice is harmless).
      this.sub.subscribe(this.loadChannel, this.eventChannel).catch(() => undefined);
      // Messages published while only this connection was down are lost: read the store again.
      if (subscribedBefore && this.state === 'ok') this.syncing = this.resync();
      subscribedBefore = true;
    });
    this.sub.on('message', (channel: string, message: string) => this.onMessage(channel, message));
    await Promise.allSettled([this.cmd.connect(), this.sub.connect()]);
    if (this.syncing) await this.syncing;
    else this.degrade(this.lastError ?? 'not reachable');
    this.heartbeat = setInterval(() => void this.beat(), this.heartbeatMs);
    this.heartbeat.unref();
  }

  // ------------------------------------------------------------------ slots

  acquire(instanceId: string, leaseId: string, maxConcurrency: number): boolean | Promise<boolean> {
    if (this.state !== 'ok') {
      this.hold(instanceId, leaseId);
      return true;
    }
    return this.cmd
      .sageAcquire(this.leaseKey(instanceId), this.member(leaseId), maxConcurrency, this.ttlMs, this.loadChannel, `${this.replicaId}\t${instanceId}\t`)
      .then(([granted, held]) => {
        this.failures = 0;
        if (granted === 1) this.hold(instanceId, leaseId);
        else this.block(instanceId);
        this.listener?.onLoad(instanceId, held, this.oursOn(instanceId));
        return granted === 1;
      })
      .catch((err: Error) => {
        // The request goes on under local state rather than wait for a store that may not come back.
        this.commandFailed('acquire', err);
        this.hold(instanceId, leaseId);
        return true;
      });
  }

  release(instanceId: string, leaseId: string): void {
    this.ours.get(instanceId)?.delete(leaseId);
    if (this.state !== 'ok') return;
    this.cmd
      .sageRelease(this.leaseKey(instanceId), this.member(leaseId), this.loadChannel, `${this.replicaId}\t${instanceId}\t`)
      .then((held) => this.listener?.onLoad(instanceId, held, this.oursOn(instanceId)))
      .catch((err: Error) => this.commandFailed('release', err)); // the lease expires within the TTL
  }

  private hold(instanceId: string, leaseId: string): void {
    let mine = this.ours.get(instanceId);
    if (!mine) this.ours.set(instanceId, (mine = new IdList<true>(16)));
    mine.set(leaseId, true);
  }

  private oursOn(instanceId: string): number {
    return this.ours.get(instanceId)?.size ?? 0;
  }

  /** A refusal: the request waits in its replica's queue; counts are read often until slots may have come free. */
  private block(instanceId: string): void {
    // Long enough to see a dead replica's leases expire.
    this.blocked.set(instanceId, Date.now() + this.ttlMs + 1000);
    if (this.poll) return;
    this.poll = setInterval(() => {
      const now = Date.now();
      for (const [id, until] of this.blocked) if (until < now) this.blocked.delete(id);
      if (this.blocked.size === 0 || this.state !== 'ok') {
        clearInterval(this.poll);
        this.poll = undefined;
        return;
      }
      void this.renew([...this.blocked.keys()]);
    }, this.blockedPollMs);
    this.poll.unref();
  }

  /**
   * Renews this replica's liveness and leases on `ids`, and reads how many replicas are alive and the slot counts
   * of `ids` (one script, one round trip).
   */
  private async renew(ids: string[]): Promise<void> {
    const keys = [this.replicaKey(this.replicaId), this.replicasKey(), ...ids.map((id) => this.leaseKey(id))];
    const info = JSON.stringify({ host: hostname(), pid: process.pid, ...this.options.replicaInfo });
    const members = ids.map((id) => (this.ours.get(id)?.keys() ?? []).map((l) => this.member(l)).join('\n'));
    try {
      const [replicas, ...counts] = await this.cmd.sageRenew(keys.length, ...keys, this.ttlMs, info, this.replicaId, ...members);
      this.failures = 0;
      this.replicasSeen = Math.max(1, Number(replicas ?? 1));
      ids.forEach((id, i) => this.listener?.onLoad(id, Number(counts[i] ?? 0), this.oursOn(id)));
    } catch (err) {
      this.commandFailed('heartbeat', err as Error);
    }
  }

  private async beat(): Promise<void> {
    if (this.state !== 'ok' || this.closed) return;
    await this.renew(this.knownIds());
  }

  private knownIds(): string[] {
    const holding = [...this.ours].filter(([, leases]) => leases.size > 0).map(([id]) => id);
    return [...new Set([...(this.listener?.instanceIds() ?? []), ...holding])];
  }

  // ------------------------------------------------------------------ shared registry, health, circuits, affinity

  publish(event: SharedEvent): void {
    if (this.state !== 'ok') return; // written back (entries) or re-decided (health, circuits) after a reconnect
    const m = this.cmd.multi();
    this.store(m, event);
    m.publish(this.eventChannel, JSON.stringify({ from: this.replicaId, event } satisfies EventMessage));
    m.exec().catch((err: Error) => this.commandFailed('publish', err));
  }

  private store(m: ChainableCommander, event: SharedEvent, ifAbsent = false): void {
    const k = (name: string) => `${this.prefix}${name}`;
    switch (event.type) {
      case 'instance':
        if (ifAbsent) m.hsetnx(k('instances'), event.entry.spec.id, JSON.stringify(event.entry));
        else m.hset(k('instances'), event.entry.spec.id, JSON.stringify(event.entry));
        break;
      case 'withdraw':
        m.hdel(k('instances'), event.id);
        m.hdel(k('health'), event.id);
        m.hdel(k('circuit'), event.id);
        m.del(this.leaseKey(event.id));
        break;
      case 'health':
        m.hset(k('health'), event.id, event.health);
        break;
      case 'circuit':
        m.hset(k('circuit'), event.id, JSON.stringify({ state: event.state, openedAt: event.openedAt }));
        break;
      case 'affinity':
        break; // learnt again from traffic by a replica that missed it
    }
  }

  async aliveReplicas(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    // While the store cannot be read, nobody is declared dead.
    if (this.state !== 'ok') return new Set(ids);
    try {
      const values = await this.cmd.mget(...ids.map((id) => this.replicaKey(id)));
      return new Set(ids.filter((_, i) => values[i] !== null));
    } catch (err) {
      this.commandFailed('liveness', err as Error);
      return new Set(ids);
    }
  }

  private onMessage(channel: string, message: string): void {
    if (this.state !== 'ok' || !this.listener) return;
    if (channel === this.loadChannel) {
      const [from, instanceId, held] = message.split('\t');
      if (from === this.replicaId || !instanceId || held === undefined) return;
      this.listener.onLoad(instanceId, Number(held), this.oursOn(instanceId));
      return;
    }
    if (channel !== this.eventChannel) return;
    let parsed: EventMessage;
    try {
      parsed = JSON.parse(message) as EventMessage;
    } catch {
      return;
    }
    if (!parsed?.event || parsed.from === this.replicaId) return;
    this.listener.onEvent(parsed.event, parsed.from);
  }

  // ------------------------------------------------------------------ connection

  /** Connected (again): write back what this replica holds, read what the store holds, then serve shared. */
  private async resync(): Promise<void> {
    const listener = this.listener;
    if (!listener || this.closed) return;
    try {
      const own = listener.ownEntries();
      const m = this.cmd.multi();
      for (const entry of own) {
        // Engines are this replica's to describe; a backend is written only if the store lost it.
        const mine = entry.origin === 'engine' && entry.replicaId === this.replicaId;
        this.store(m, { type: 'instance', entry }, !mine);
        if (mine) m.publish(this.eventChannel, JSON.stringify({ from: this.replicaId, event: { type: 'instance', entry } } satisfies EventMessage));
      }
      m.hgetall(`${this.prefix}instances`);
      m.hgetall(`${this.prefix}health`);
      m.hgetall(`${this.prefix}circuit`);
      const results = (await m.exec()) ?? [];
      const [instances, health, circuits] = results.slice(-3).map(([err, value]) => (err ? {} : (value as Record<string, string>)));
      const snapshot: SharedSnapshot = { entries: [], health: {}, circuits: {} };
      for (const raw of Object.values(instances ?? {})) {
        try {
          snapshot.entries.push(JSON.parse(raw) as SharedInstanceEntry);
        } catch {
          // an entry this version cannot read is skipped
        }
      }
      for (const [id, h] of Object.entries(health ?? {})) snapshot.health[id] = h as InstanceHealth;
      for (const [id, raw] of Object.entries(circuits ?? {})) {
        try {
          snapshot.circuits[id] = JSON.parse(raw) as { state: 'open' | 'closed'; openedAt: number };
        } catch {
          // skipped
        }
      }
      // The state must be ok before onSync registers instances, so that what it announces is published.
      this.setState('ok');
      listener.onSync(snapshot);
      await this.renew(this.knownIds());
      this.log.info({ replica: this.replicaId, store: this.options.redactedUrl, instances: snapshot.entries.length }, 'state store connected: sharing state with the other replicas');
    } catch (err) {
      // Connected but unreadable: local state, and a new connection (whose 'ready' tries again).
      this.lastError = `sync: ${(err as Error).message}`;
      this.degrade(this.lastError);
      if (!this.closed) this.cmd.disconnect(true);
    }
  }

  private degrade(reason: string): void {
    if (this.closed || this.state === 'degraded') return;
    this.lastError = reason;
    this.log.warn({ replica: this.replicaId, store: this.options.redactedUrl, reason }, 'state store unreachable: running on local state until it is back');
    this.setState('degraded');
  }

  private setState(state: StateStoreState): void {
    if (this.state === state) return;
    this.state = state;
    this.since = Date.now();
    this.listener?.onStatus(this.status());
  }

  private commandFailed(what: string, err: Error): void {
    this.lastError = `${what}: ${err.message}`;
    this.failures += 1;
    if (this.state === 'ok' && this.failures >= FAILURES_BEFORE_RECONNECT && !this.closed) {
      // An open connection that stopped answering (a paused or overloaded Redis): local state, and a new connection.
      this.degrade(this.lastError);
      this.cmd.disconnect(true);
    }
  }

  private leaseKey(instanceId: string): string {
    return `${this.prefix}lease:${instanceId}`;
  }

  private replicaKey(id: string): string {
    return `${this.prefix}replica:${id}`;
  }

  private replicasKey(): string {
    return `${this.prefix}replicas`;
  }

  private member(leaseId: string): string {
    return `${this.replicaId}|${leaseId}`;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.poll) clearInterval(this.poll);
    if (this.state === 'ok') {
      // Leases still held (requests cut short) go at once rather than after the TTL.
      const m = this.cmd.multi();
      for (const [id, leases] of this.ours) if (leases.size) m.zrem(this.leaseKey(id), ...leases.keys().map((l) => this.member(l)));
      m.del(this.replicaKey(this.replicaId));
      m.zrem(this.replicasKey(), this.replicaId);
      await m.exec().catch(() => undefined);
    }
    this.closed = true;
    await Promise.allSettled([quit(this.cmd), quit(this.sub)]);
  }
}

async function quit(r: Redis): Promise<void> {
  if (r.status === 'ready') {
    await Promise.race([r.quit().catch(() => undefined), new Promise((res) => setTimeout(res, 1000).unref())]);
  }
  r.disconnect();
}
