// Prometheus metrics of sim-llm under vLLM's names, so anything that scrapes a vLLM engine (the control
// plane's load tracking, dashboards) reads the simulator the same way. One registry per server.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { sampledGauges } from '../http/sampled-gauge';
import type { SchedulerStats } from '../model/scheduler';

export interface SimLlmMetrics {
  registry: Registry;
  promptTokens: Counter<'model_name'>;
  generationTokens: Counter<'model_name'>;
  ttft: Histogram<'model_name'>;
  tpot: Histogram<'model_name'>;
  e2e: Histogram<'model_name'>;
  requestSuccess: Counter<'model_name' | 'finished_reason'>;
  kvPrefills: Counter<'model_name'>;
  kvDecodes: Counter<'model_name'>;
}

export function createSimLlmMetrics(model: string, stats: () => SchedulerStats, cache?: { kvCacheBlocks: number; blockSize: number }): SimLlmMetrics {
  const registry = new Registry();
  const labelNames = ['model_name'] as const;
  const gauge = sampledGauges(registry, model, stats);
  gauge('vllm:num_requests_running', 'Number of sequences in the running batch (simulated).', (s) => s.running);
  gauge('vllm:num_requests_waiting', 'Number of sequences waiting to be admitted (simulated).', (s) => s.waiting);
  gauge('vllm:gpu_cache_usage_perc', 'Fraction of KV-cache blocks in use, 0..1 (simulated).', (s) => s.kvUsage);
  gauge('sage_sim:prefix_cache_blocks', 'KV blocks held by the prefix cache.', (s) => s.cachedBlocks);
  gauge('vllm:num_preemptions_total', 'Sequences preempted for lack of KV blocks (recompute).', (s) => s.preemptions);
  gauge('vllm:prefix_cache_hit_tokens_total', 'Prompt tokens served from the prefix cache.', (s) => s.prefixHitTokens);

  if (cache) {
    // vLLM's info gauge: the KV-cache geometry in labels, value 1 (how a router learns each engine's capacity).
    const info = new Gauge({ name: 'vllm:cache_config_info', help: 'Information of the KV cache configuration.', labelNames: ['num_gpu_blocks', 'block_size'], registers: [registry] });
    info.set({ num_gpu_blocks: String(cache.kvCacheBlocks), block_size: String(cache.blockSize) }, 1);
  }

  const counter = <L extends string>(name: string, help: string, labels: readonly L[]) =>
    new Counter<L>({ name, help, labelNames: labels, registers: [registry] });
  const histogram = (name: string, help: string, buckets: number[]) => new Histogram({ name, help, labelNames, buckets, registers: [registry] });

  const m: SimLlmMetrics = {
    registry,
    promptTokens: counter('vllm:prompt_tokens_total', 'Prefilled prompt tokens.', labelNames),
    generationTokens: counter('vllm:generation_tokens_total', 'Generated tokens.', labelNames),
    ttft: histogram('vllm:time_to_first_token_seconds', 'Time to first token, seconds.', [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]),
    tpot: histogram('vllm:time_per_output_token_seconds', 'Time per output token after the first, seconds.', [0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1]),
    e2e: histogram('vllm:e2e_request_latency_seconds', 'End-to-end request latency, seconds.', [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60]),
    requestSuccess: counter('vllm:request_success_total', 'Finished requests by finish reason.', ['model_name', 'finished_reason'] as const),
    kvPrefills: counter('sage_sim:kv_transfer_prefills_total', 'Prefill-only requests (kv_transfer_params.do_remote_decode) served.', labelNames),
    kvDecodes: counter('sage_sim:kv_transfer_decodes_total', 'Requests decoded from a remote prefill (kv_transfer_params.do_remote_prefill).', labelNames),
  };
  // Counters exist from the start at 0, so a scrape before the first request already sees every series.
  for (const c of [m.promptTokens, m.generationTokens, m.kvPrefills, m.kvDecodes]) c.inc({ model_name: model }, 0);
  return m;
}
