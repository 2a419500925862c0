// Load as an engine reports it on its Prometheus /metrics (vLLM names). Summed over label sets, since
// vLLM exports one series per model name.

export interface EngineLoadMetrics {
  running?: number;
  waiting?: number;
  /** 0..1 */
  kvCacheUsage?: number;
}

const NAMES: Record<string, keyof EngineLoadMetrics> = {
  'vllm:num_requests_running': 'running',
  'vllm:num_requests_waiting': 'waiting',
  'vllm:gpu_cache_usage_perc': 'kvCacheUsage',
  'vllm:kv_cache_usage_perc': 'kvCacheUsage',
};

export function parseEngineMetrics(text: string): EngineLoadMetrics {
  const out: EngineLoadMetrics = {};
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const key = NAMES[m[1]];
    if (!key) continue;
    const v = Number(m[3]);
    if (!Number.isFinite(v)) continue;
    out[key] = key === 'kvCacheUsage' ? Math.max(out[key] ?? 0, v) : (out[key] ?? 0) + v;
  }
  return out;
}

/** Value of one counter/gauge (summed over labels), e.g. for tests reading an engine's request counters. */
export function metricValue(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && m[1] === name) sum += Number(m[3]) || 0;
  }
  return sum;
}
