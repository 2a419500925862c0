// Builders for constructed snapshots used by the classifier, routing, policy and metrics tests.
import {
  InstanceType,
  RequestPriority,
  RequestStatus,
  RequestType,
  createLatencyEstimator,
  createRouter,
  type ExecutionInstance,
  type InstanceLoad,
  type LatencyEstimator,
  type RequestMetadata,
  type RoutingStrategy,
  type SchedulingContext,
} from '../../src';
import { mulberry32 } from '@sage/common';

export { mulberry32 };

type InstanceOverrides = Partial<Omit<ExecutionInstance, 'load'>> & { load?: Partial<InstanceLoad> };

const LLM_TYPES = [RequestType.LLM_CHAT, RequestType.LLM_GENERATE];
const SUPPORTED: Record<InstanceType, RequestType[]> = {
  GENERAL: LLM_TYPES,
  HYBRID: LLM_TYPES,
  PREFILLING: LLM_TYPES,
  DECODING: LLM_TYPES,
  EMBEDDING: [RequestType.EMBEDDING],
  LLM_EMBEDDING: [...LLM_TYPES, RequestType.EMBEDDING],
};

let port = 9000;

export function inst(id: string, over: InstanceOverrides = {}): ExecutionInstance {
  const type = over.type ?? InstanceType.GENERAL;
  const p = port++;
  const { load, ...rest } = over;
  return {
    id,
    host: '127.0.0.1',
    port: p,
    baseUrl: `http://127.0.0.1:${p}/v1`,
    models: ['m'],
    type,
    supportedRequestTypes: SUPPORTED[type],
    gpuCount: 1,
    gpuIds: [0],
    maxConcurrency: 4,
    health: 'healthy',
    ...rest,
    load: { activeRequests: 0, queuedRequests: 0, kvCacheUsage: 0, ewmaLatencyMs: 0, ewmaTtftMs: 0, tokensPerSecond: 0, ...load },
  };
}

export function req(id: string, over: Partial<RequestMetadata> & { arrival?: number } = {}): RequestMetadata {
  const { arrival, ...rest } = over;
  const type = rest.type ?? RequestType.LLM_CHAT;
  return {
    id,
    type,
    model: 'm',
    priority: RequestPriority.NORMAL,
    status: RequestStatus.QUEUED,
    timestamps: { arrival: arrival ?? 0 },
    ...(type === RequestType.EMBEDDING
      ? { embeddingTexts: [`text of ${id}`] }
      : type === RequestType.LLM_GENERATE
        ? { prompt: `prompt of ${id}` }
        : { messages: [{ role: 'user', content: `question ${id}` }] }),
    maxTokens: 32,
    promptTokens: 20,
    ...rest,
  };
}

export function ctx(
  instances: ExecutionInstance[],
  over: { now?: number; router?: RoutingStrategy; estimator?: LatencyEstimator } = {},
): SchedulingContext {
  return {
    now: over.now ?? 0,
    instances,
    router: over.router ?? createRouter('load_balanced', { rng: mulberry32(7) }),
    estimator: over.estimator ?? createLatencyEstimator(),
  };
}

/** A copy of `i` with different load (snapshots are immutable). */
export function withLoad(i: ExecutionInstance, load: Partial<InstanceLoad>): ExecutionInstance {
  return { ...i, load: { ...i.load, ...load } };
}
