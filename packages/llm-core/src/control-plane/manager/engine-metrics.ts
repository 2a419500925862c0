// Load and timings as an engine reports them on its Prometheus /metrics, under vLLM's names — the older and
// the newer ones (gpu_cache_usage_perc became kv_cache_usage_perc, time_per_output_token became
// inter_token_latency) — which the built-in simulators export too. Summed over label sets, since vLLM exports
// one series per model name; the KV-cache capacity comes from vllm:cache_config_info's labels.

export interface EngineLoadMetrics {
  running?: number;
  waiting?: number;
  /** 0..1 */
  kvCacheUsage?: number;
  /** KV-cache capacity in tokens (num_gpu_blocks × block_size). */
  kvCacheTokens?: number;
  /** Cumulative histogram sums (seconds) and counts, for calibration. */
  ttftSum?: number;
  ttftCount?: number;
  tpotSum?: number;
  tpotCount?: number;
  promptTokens?: number;
}

type Key = Exclude<keyof EngineLoadMetrics, 'kvCacheTokens'>;

const NAMES: Record<string, Key> = {
  'vllm:num_requests_running': 'running',
  'vllm:num_requests_waiting': 'waiting',
  'vllm:gpu_cache_usage_perc': 'kvCacheUsage',
  'vllm:kv_cache_usage_perc': 'kvCacheUsage',
  'vllm:time_to_first_token_seconds_sum': 'ttftSum',
  'vllm:time_to_first_token_seconds_count': 'ttftCount',
  'vllm:time_per_output_token_seconds_sum': 'tpotSum',
  'vllm:time_per_output_token_seconds_count': 'tpotCount',
  'vllm:inter_token_latency_seconds_sum': 'tpotSum',
  'vllm:inter_token_latency_seconds_count': 'tpotCount',
  'vllm:prompt_tokens_total': 'promptTokens',
};

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/;

function label(labels: string | undefined, name: string): number | undefined {
  const m = labels ? new RegExp(`[{,]\\s*${name}="([^"]*)"`).exec(labels) : null;
  const v = m ? Number(m[1]) : NaN;
  return Number.isFinite(v) ? v : undefined;
}

export function parseEngineMetrics(text: string): EngineLoadMetrics {
  const out: EngineLoadMetrics = {};
  // An engine that exports both the old and the new TPOT name must not be counted twice.
  const seenTpot = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    if (m[1] === 'vllm:cache_config_info') {
      const blocks = label(m[2], 'num_gpu_blocks');
      const size = label(m[2], 'block_size');
      if (blocks !== undefined && size !== undefined) out.kvCacheTokens = Math.max(out.kvCacheTokens ?? 0, blocks * size);
      continue;
    }
    const key = NAMES[m[1]];
    if (!key) continue;
    const v = Number(m[3]);
    if (!Number.isFinite(v)) continue;
    if (key === 'tpotSum' || key === 'tpotCount') {
      const family = m[1].replace(/_(sum|count)$/, '');
      if (seenTpot.size > 0 && !seenTpot.has(family)) continue;
      seenTpot.add(family);
    }
    out[key] = key === 'kvCacheUsage' ? Math.max(out[key] ?? 0, v) : (out[key] ?? 0) + v;
  }
  return out;
}

/** Value of one counter/gauge (summed over labels), e.g. for tests reading an engine's request counters. */
export function metricValue(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (m && m[1] === name) sum += Number(m[3]) || 0;
  }
  return sum;
}
