// Core model of the control plane (F-201). Internal types are plain interfaces; wire formats live
// in @sage/common as zod schemas. Policies and routing strategies are pure functions of these snapshots.

export const RequestType = { LLM_CHAT: 'llm_chat', LLM_GENERATE: 'llm_generate', EMBEDDING: 'embedding' } as const;
export type RequestType = (typeof RequestType)[keyof typeof RequestType];

/** Lower number = more urgent. */
export const RequestPriority = { CRITICAL: 0, HIGH: 1, NORMAL: 2, LOW: 3, BACKGROUND: 4 } as const;
export type RequestPriority = (typeof RequestPriority)[keyof typeof RequestPriority];
export type PriorityName = keyof typeof RequestPriority;
export const PRIORITY_NAMES = Object.keys(RequestPriority) as PriorityName[];

export const RequestStatus = {
  PENDING: 'pending',
  QUEUED: 'queued',
  SCHEDULED: 'scheduled',
  RUNNING: 'running',
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
} as const;
export type RequestStatus = (typeof RequestStatus)[keyof typeof RequestStatus];

export const InstanceType = {
  GENERAL: 'GENERAL',
  PREFILLING: 'PREFILLING',
  DECODING: 'DECODING',
  HYBRID: 'HYBRID',
  EMBEDDING: 'EMBEDDING',
  LLM_EMBEDDING: 'LLM_EMBEDDING',
} as const;
export type InstanceType = (typeof InstanceType)[keyof typeof InstanceType];

export interface ChatMessageLike {
  role: string;
  content?: unknown;
  name?: string;
}

/** A completions prompt as OpenAI accepts it: one text, several, one token-id array, or several. */
export type CompletionPrompt = string | string[] | number[] | number[][];

export interface SamplingParams {
  temperature?: number;
  topP?: number;
  stop?: string | string[];
  seed?: number;
  n?: number;
}

export interface RequestTimestamps {
  arrival: number;
  queued?: number;
  scheduled?: number;
  started?: number;
  firstToken?: number;
  finished?: number;
}

/** One request as the control plane sees it. Times are milliseconds (Date.now() / performance clock). */
export interface RequestMetadata {
  id: string;
  type: RequestType;
  model: string;
  priority: RequestPriority;
  /** End-to-end deadline relative to arrival, in ms. */
  sloDeadlineMs?: number;
  /** Time-to-first-token deadline relative to arrival, in ms. */
  ttftDeadlineMs?: number;
  messages?: ChatMessageLike[];
  /** The prompt text, when there is one (for a list of texts, the first): routing and estimates read it. */
  prompt?: string;
  /** The prompt exactly as the client sent it when it is a list or token ids: forwarded untouched, never re-encoded. */
  promptInput?: CompletionPrompt;
  embeddingTexts?: string[];
  /** Token-id embedding inputs, forwarded untouched (counted, never re-encoded). */
  embeddingTokenIds?: number[][];
  maxTokens?: number;
  sampling?: SamplingParams;
  userId?: string;
  sessionId?: string;
  /** The caller's own request id (its x-request-id), sent to the engine as x-request-id instead of `id`. */
  clientRequestId?: string;
  /**
   * Prompt tokens as counted by the tokenizer in @sage/common, once something needed the exact figure; estimates
   * read it when present and count characters otherwise.
   */
  promptTokens?: number;
  status: RequestStatus;
  timestamps: RequestTimestamps;
  tags?: Record<string, string>;
}

export interface Topology {
  machineId?: string;
  rackId?: string;
  numaNode?: number;
  /** Ids of instances reachable over NVLink from this one. */
  nvlinkPeers?: string[];
  /** Instances sharing an NVLink group reach each other over NVLink (a declarative form of nvlinkPeers). */
  nvlinkGroup?: string;
}

export type InstanceHealth = 'healthy' | 'unhealthy' | 'unknown';

export interface InstanceLoad {
  activeRequests: number;
  queuedRequests: number;
  /** 0..1 */
  kvCacheUsage: number;
  /** EWMA of end-to-end latency per request, ms. */
  ewmaLatencyMs: number;
  /** EWMA of time to first token, ms. */
  ewmaTtftMs: number;
  /** Recent output tokens per second. */
  tokensPerSecond: number;
}

export interface ExecutionInstance {
  id: string;
  host: string;
  port: number;
  /** Base URL of the OpenAI-compatible API, e.g. http://127.0.0.1:8001/v1 */
  baseUrl: string;
  models: string[];
  type: InstanceType;
  supportedRequestTypes: RequestType[];
  gpuCount: number;
  gpuIds: number[];
  maxConcurrency: number;
  /** KV-cache capacity in tokens, from the engine's /metrics or its registration (unknown when absent). */
  kvCacheTokens?: number;
  topology?: Topology;
  costPerHour?: number;
  health: InstanceHealth;
  load: InstanceLoad;
  /** Back-end API key; never serialised into responses, status or logs. */
  apiKey?: string;
}

export interface SchedulingDecision {
  requestId: string;
  instanceId: string;
  /** For prefill/decode separation: the decode instance (instanceId is then the prefill one). */
  decodeInstanceId?: string;
  estimatedLatencyMs: number;
  estimatedCost?: number;
  reason: string;
  /** Name of the policy that decided (for adaptive: the policy it delegated to). */
  policy: string;
  /** Embedding requests the policy grouped into one batch (sent as one engine call) share this id. */
  batchId?: string;
}

export interface Rejection {
  requestId: string;
  /** queue_full | deadline_infeasible | no_instance | ... */
  code: string;
  reason: string;
  /** Suggested Retry-After in seconds. */
  retryAfterSec?: number;
}

/** Picks one instance for a request among candidates that are compatible, healthy and have capacity. */
export interface RoutingStrategy {
  readonly name: string;
  route(request: RequestMetadata, candidates: readonly ExecutionInstance[]): ExecutionInstance | undefined;
  /** Told when the set of instances changes (for strategies that keep state, e.g. hash rings). */
  onInstancesChanged?(instances: readonly ExecutionInstance[]): void;
  /** Strategies that remember placements (sessions, prompt prefixes) share them with other replicas through this. */
  readonly memory?: RouterMemory;
}

/** What a routing strategy learnt: these keys now belong on that instance. Replicas pass it to each other. */
export interface RouterMemory {
  /** Called with what this router learns as it routes. */
  onLearn(listener: (keys: readonly string[], instanceId: string) => void): void;
  /** What another replica's router learnt, taken on without being reported again. */
  learn(keys: readonly string[], instanceId: string): void;
}

/** Estimates of how long a request would take on an instance, given its current load. */
export interface LatencyEstimator {
  /** Estimated queue wait + prefill + decode time in ms for `request` on `instance`. */
  estimate(request: RequestMetadata, instance: ExecutionInstance): number;
}

export interface SchedulingContext {
  now: number;
  /** Healthy instances with their live load (a snapshot: the policy must not mutate it). */
  instances: readonly ExecutionInstance[];
  router: RoutingStrategy;
  estimator: LatencyEstimator;
  /** Set by a caller whose queue holds one request per id (the control plane's): no need to look for repeats. */
  uniqueIds?: boolean;
}

export interface PolicyResult {
  /** Decisions keyed by request id; the manager applies each to the request with that id, never by position. */
  decisions: SchedulingDecision[];
  rejections: Rejection[];
}

/** Orders the queue and chooses instances; schedules no more than the instances' free capacity. */
export interface SchedulingPolicy {
  readonly name: string;
  schedule(queue: readonly RequestMetadata[], ctx: SchedulingContext): PolicyResult;
  /**
   * The queue in the order this policy would serve it at `now`, without changing it. The control plane asks it
   * which queued requests a deadline has to wait behind; a policy without it is taken to serve in arrival order.
   */
  order?(queue: readonly RequestMetadata[], now: number): RequestMetadata[];
  /**
   * Whether deadlines change what the control plane does with a request under this policy: refused at admission
   * or while queued when confidently hopeless (deadline_infeasible). False for a deadline-blind policy (fifo: a
   * plain queue in arrival order), whose requests are never refused by deadline; their SLO attainment is still
   * measured. Absent means true.
   */
  readonly judgesDeadlines?: boolean;
}
