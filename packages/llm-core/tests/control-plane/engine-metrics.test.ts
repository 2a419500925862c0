// What the control plane reads from an engine's /metrics: vLLM's older and newer names alike.
import { parseEngineMetrics } from '../../src/control-plane/manager';

describe('parseEngineMetrics', () => {
  it('reads load, KV-cache use and capacity, and the latency histograms under the older vLLM names', () => {
    const text = [
      '# HELP vllm:num_requests_running running',
      'vllm:num_requests_running{model_name="a"} 3',
      'vllm:num_requests_waiting{model_name="a"} 2',
      'vllm:gpu_cache_usage_perc{model_name="a"} 0.25',
      'vllm:cache_config_info{block_size="16",num_gpu_blocks="300",model_name="a"} 1',
      'vllm:time_to_first_token_seconds_sum{model_name="a"} 1.5',
      'vllm:time_to_first_token_seconds_count{model_name="a"} 10',
      'vllm:time_per_output_token_seconds_sum{model_name="a"} 0.9',
      'vllm:time_per_output_token_seconds_count{model_name="a"} 60',
      'vllm:prompt_tokens_total{model_name="a"} 5000',
    ].join('\n');
    expect(parseEngineMetrics(text)).toEqual({ running: 3, waiting: 2, kvCacheUsage: 0.25, kvCacheTokens: 4800, ttftSum: 1.5, ttftCount: 10, tpotSum: 0.9, tpotCount: 60, promptTokens: 5000 });
  });

  it('reads the newer names, and counts time per output token once when an engine exports both', () => {
    const text = [
      'vllm:kv_cache_usage_perc{engine="0",model_name="a"} 0.5',
      'vllm:inter_token_latency_seconds_sum{model_name="a"} 2',
      'vllm:inter_token_latency_seconds_count{model_name="a"} 100',
      'vllm:time_per_output_token_seconds_sum{model_name="a"} 2',
      'vllm:time_per_output_token_seconds_count{model_name="a"} 100',
    ].join('\n');
    expect(parseEngineMetrics(text)).toEqual({ kvCacheUsage: 0.5, tpotSum: 2, tpotCount: 100 });
  });
});
