// The instance registry: the one owner of instance state and live load (ARCHITECTURE "where things are
// decided"). The executor's outcomes and the engines' /metrics feed it; policies get copies (snapshots).
import { EventEmitter } from 'node:events';
import { normalizeBaseUrl } from '@sage/common';
import type { ExecutionInstance, InstanceHealth, InstanceLoad, InstanceType, RequestType, Topology } from '../types';
import { InstanceType as IT, RequestType as RT } from '../types';

/** What a caller supplies to register an instance; everything else gets a default. */
export interface InstanceSpec {
  id?: string;
  /** Base URL of the OpenAI-compatible API; a bare origin gets /v1 (normalizeBaseUrl of @sage/common). */
  baseUrl: string;
  models: string[];
  type?: InstanceType;
  supportedRequestTypes?: RequestType[];
  gpuCount?: number;
  gpuIds?: number[];
  maxConcurrency?: number;
  /** KV-cache capacity in tokens, when known at registration (the engine's /metrics tells it otherwise). */
  kvCacheTokens?: number;
  topology?: Topology;
  costPerHour?: number;
  health?: InstanceHealth;
  apiKey?: string;
}

const EWMA_ALPHA = 0.2;

export function defaultRequestTypes(type: InstanceType): RequestType[] {
  if (type === IT.EMBEDDING) return [RT.EMBEDDING];
  if (type === IT.LLM_EMBEDDING) return [RT.LLM_CHAT, RT.LLM_GENERATE, RT.EMBEDDING];
  return [RT.LLM_CHAT, RT.LLM_GENERATE];
}

function frozenTopology(t: Topology | undefined): Topology | undefined {
  if (!t) return undefined;
  return Object.freeze({ ...t, nvlinkPeers: t.nvlinkPeers ? (Object.freeze([...t.nvlinkPeers]) as string[]) : undefined });
}

export function emptyLoad(): InstanceLoad {
  // The fractional fields start as doubles holding 0: created from a literal 0 they would be small integers, and
  // their first fractional value would change the object's field layout, throwing away the code optimised for the
  // old one (the dispatcher's, which reads them on every decision). 0 still means "nothing measured yet".
  const load: InstanceLoad = { activeRequests: 0, queuedRequests: 0, kvCacheUsage: 0.5, ewmaLatencyMs: 0.5, ewmaTtftMs: 0.5, tokensPerSecond: 0.5 };
  load.kvCacheUsage = 0;
  load.ewmaLatencyMs = 0;
  load.ewmaTtftMs = 0;
  load.tokensPerSecond = 0;
  return load;
}

/**
 * `change`: the set of instances, a health or a KV capacity changed, or other replicas freed slots on an instance.
 * `capacity`: a request of this replica left an instance (on every request, so kept apart from `change`, whose
 * listeners care only about the rarer events; one listener is called without copying a listener list).
 */
export class InstanceRegistry extends EventEmitter<{ change: [reason: string, instanceId: string]; capacity: [instanceId: string] }> {
  private readonly instances = new Map<string, ExecutionInstance>();
  /** Requests other control-plane replicas have in flight per instance (a shared state store); included in load. */
  private readonly remote = new Map<string, number>();
  private seq = 0;
  /** The instances as a list, made again only when one is registered or unregistered (read on every request). */
  private list: readonly ExecutionInstance[] = Object.freeze([]);
  private revision = 0;

  register(spec: InstanceSpec): ExecutionInstance {
    const url = new URL(normalizeBaseUrl(spec.baseUrl));
    const type = spec.type ?? IT.GENERAL;
    const id = spec.id ?? `${type.toLowerCase()}-${url.hostname}-${url.port || (url.protocol === 'https:' ? 443 : 80)}-${++this.seq}`;
    if (this.instances.has(id)) throw new Error(`instance ${id} is already registered`);
    const instance: ExecutionInstance = {
      id,
      host: url.hostname,
      port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      baseUrl: url.toString().replace(/\/+$/, ''),
      // Frozen: snapshots share them instead of copying them for every scheduling decision.
      models: Object.freeze([...spec.models]) as string[],
      type,
      supportedRequestTypes: Object.freeze([...(spec.supportedRequestTypes ?? defaultRequestTypes(type))]) as RequestType[],
      gpuCount: spec.gpuCount ?? 0,
      gpuIds: Object.freeze([...(spec.gpuIds ?? [])]) as number[],
      maxConcurrency: spec.maxConcurrency ?? 32,
      kvCacheTokens: spec.kvCacheTokens,
      topology: frozenTopology(spec.topology),
      costPerHour: spec.costPerHour,
      health: spec.health ?? 'healthy',
      load: emptyLoad(),
      apiKey: spec.apiKey,
    };
    this.instances.set(id, instance);
    this.changed();
    this.emit('change', 'registered', id);
    return instance;
  }

  unregister(id: string): boolean {
    const ok = this.instances.delete(id);
    this.remote.delete(id);
    if (ok) {
      this.changed();
      this.emit('change', 'unregistered', id);
    }
    return ok;
  }

  get(id: string): ExecutionInstance | undefined {
    return this.instances.get(id);
  }

  /** Every registered instance (the live objects), in registration order. Shared and frozen: not copied per call. */
  all(): readonly ExecutionInstance[] {
    return this.list;
  }

  /**
   * Changes whenever the set of instances or the health of one changes: what is derived from `all()` and health
   * alone (which instances serve a model, which of them are healthy) may be kept until it moves.
   */
  get version(): number {
    return this.revision;
  }

  private changed(): void {
    this.list = Object.freeze([...this.instances.values()]);
    this.revision += 1;
  }

  /**
   * The live instances that pass `filter` (not copies: for sage's own policies and routers, which only read them
   * and never look at API keys, within one synchronous call).
   */
  live(filter: (i: ExecutionInstance) => boolean): ExecutionInstance[] {
    const out: ExecutionInstance[] = [];
    for (const i of this.list) if (filter(i)) out.push(i);
    return out;
  }

  /**
   * Copies without back-end API keys: what policies, routers and status readers see. The instance and its load are
   * copied; its lists and topology are frozen at registration, so the copies share them.
   */
  snapshot(filter?: (i: ExecutionInstance) => boolean): ExecutionInstance[] {
    const out: ExecutionInstance[] = [];
    for (const i of this.instances.values()) {
      if (filter && !filter(i)) continue;
      out.push({ ...i, apiKey: undefined, load: { ...i.load } });
    }
    return out;
  }

  setHealth(id: string, health: InstanceHealth): void {
    const i = this.instances.get(id);
    if (!i || i.health === health) return;
    i.health = health;
    this.revision += 1;
    this.emit('change', health, id);
  }

  /** A request was dispatched to the instance. */
  begin(id: string): void {
    const i = this.instances.get(id);
    if (i) i.load.activeRequests += 1;
  }

  /** A request left the instance; latency figures are folded into the EWMAs when the request succeeded. */
  end(id: string, outcome?: { latencyMs: number; ttftMs?: number; outputTokens?: number }): void {
    const i = this.instances.get(id);
    if (!i) return;
    i.load.activeRequests = Math.max(this.remote.get(id) ?? 0, i.load.activeRequests - 1);
    if (outcome) {
      const l = i.load;
      l.ewmaLatencyMs = l.ewmaLatencyMs === 0 ? outcome.latencyMs : l.ewmaLatencyMs + EWMA_ALPHA * (outcome.latencyMs - l.ewmaLatencyMs);
      if (outcome.ttftMs !== undefined) l.ewmaTtftMs = l.ewmaTtftMs === 0 ? outcome.ttftMs : l.ewmaTtftMs + EWMA_ALPHA * (outcome.ttftMs - l.ewmaTtftMs);
      if (outcome.outputTokens && outcome.latencyMs > 0) {
        const tps = (outcome.outputTokens * 1000) / outcome.latencyMs;
        l.tokensPerSecond = l.tokensPerSecond === 0 ? tps : l.tokensPerSecond + EWMA_ALPHA * (tps - l.tokensPerSecond);
      }
    }
    this.emit('capacity', id);
  }

  /**
   * Requests other replicas have in flight on the instance (read from the shared state store): the load that
   * policies, routers and admission see is this replica's plus theirs. Capacity freed this way wakes dispatch.
   */
  setRemoteActive(id: string, count: number): void {
    const i = this.instances.get(id);
    if (!i) return;
    const before = this.remote.get(id) ?? 0;
    const next = Math.max(0, Math.floor(count));
    if (next === before) return;
    if (next === 0) this.remote.delete(id);
    else this.remote.set(id, next);
    i.load.activeRequests = Math.max(0, i.load.activeRequests + next - before);
    if (next < before) this.emit('change', 'capacity', id);
  }

  /** Requests this replica has in flight on the instance. */
  localActive(id: string): number {
    const i = this.instances.get(id);
    return i ? Math.max(0, i.load.activeRequests - (this.remote.get(id) ?? 0)) : 0;
  }

  /** Load read from the engine's own /metrics (queue and KV-cache use; active requests stay executor-owned). */
  applyEngineMetrics(id: string, m: { running?: number; waiting?: number; kvCacheUsage?: number; kvCacheTokens?: number }): void {
    const i = this.instances.get(id);
    if (!i) return;
    if (m.waiting !== undefined) i.load.queuedRequests = m.waiting;
    if (m.kvCacheUsage !== undefined) i.load.kvCacheUsage = m.kvCacheUsage;
    if (m.kvCacheTokens !== undefined && m.kvCacheTokens > 0 && i.kvCacheTokens !== m.kvCacheTokens) {
      i.kvCacheTokens = m.kvCacheTokens;
      this.emit('change', 'kv-capacity', id);
    }
  }
}
