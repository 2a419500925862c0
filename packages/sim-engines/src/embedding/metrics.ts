// Prometheus metrics of sim-embedding (one registry per server).
import { Counter, Histogram, Registry } from 'prom-client';
import { sampledGauges } from '../http/sampled-gauge';

export interface EmbeddingLoad {
  inFlight: number;
  queued: number;
  batches: number;
}

export interface SimEmbeddingMetrics {
  registry: Registry;
  inputs: Counter<'model_name'>;
  tokens: Counter<'model_name'>;
  rejected: Counter<'model_name' | 'reason'>;
  latency: Histogram<'model_name'>;
}

export function createSimEmbeddingMetrics(model: string, load: () => EmbeddingLoad): SimEmbeddingMetrics {
  const registry = new Registry();
  const labelNames = ['model_name'] as const;
  const labels = { model_name: model };
  const gauge = sampledGauges(registry, model, load);
  gauge('sage_sim:embedding_requests_running', 'Embedding requests in flight.', (l) => l.inFlight);
  gauge('sage_sim:embedding_requests_waiting', 'Requests queued for the GPU.', (l) => l.queued);
  gauge('sage_sim:embedding_batches_total', 'GPU batches run.', (l) => l.batches);
  const m: SimEmbeddingMetrics = {
    registry,
    inputs: new Counter({ name: 'sage_sim:embedding_inputs_total', help: 'Texts embedded.', labelNames, registers: [registry] }),
    tokens: new Counter({ name: 'sage_sim:embedding_tokens_total', help: 'Input tokens embedded.', labelNames, registers: [registry] }),
    rejected: new Counter({ name: 'sage_sim:embedding_rejected_total', help: 'Requests rejected, by reason.', labelNames: ['model_name', 'reason'], registers: [registry] }),
    latency: new Histogram({ name: 'sage_sim:embedding_request_latency_seconds', help: 'Request latency, seconds.', labelNames, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry] }),
  };
  m.inputs.inc(labels, 0);
  m.tokens.inc(labels, 0);
  return m;
}
