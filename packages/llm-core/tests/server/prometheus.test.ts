// /metrics in the ecosystem's own terms (issue 16): request-level series under vLLM's names with vLLM's buckets and
// a model_name label, the control plane's own under sage_*, process metrics under their standard names, label
// values only from what is served, and a Grafana dashboard (docs/grafana) whose every query reads an exported series.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { startHarness, type Harness } from './harness';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The sample lines of a Prometheus text exposition. */
function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

const PROMQL_WORDS = new Set(['sum', 'avg', 'min', 'max', 'count', 'rate', 'irate', 'increase', 'histogram_quantile', 'clamp_min', 'by', 'without', 'on', 'ignoring', 'and', 'or', 'unless', 'bool', 'offset']);

/** Series names a PromQL expression (or a label_values() variable query) reads. */
function seriesNames(expr: string): string[] {
  const lv = /^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(expr.trim());
  if (lv) return [lv[1]!];
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '');
  return (bare.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? []).filter((w) => !PROMQL_WORDS.has(w));
}

let h: Harness;
let client: OpenAI;
const scrape = async () => parseExposition(await (await fetch(`${h.cp.url}/metrics`)).text());

beforeAll(async () => {
  h = await startHarness();
  client = new OpenAI({ baseURL: h.baseURL, apiKey: 'unused', maxRetries: 0, timeout: 20_000 });
  // A few real requests: streamed and not, chat, text and embeddings, one with a deadline it meets, one refused.
  for await (const _ of await client.chat.completions.create({ model: 'sage-sim-llm', messages: [{ role: 'user', content: 'Tell me something.' }], max_tokens: 16, stream: true })) void _;
  await client.completions.create({ model: 'sage-sim-llm', prompt: 'Once upon a time', max_tokens: 8 });
  await client.chat.completions.create({ model: 'sage-sim-llm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 }, { headers: { 'x-sage-slo-ms': '60000' } });
  await client.embeddings.create({ model: 'sage-sim-embedding', input: ['a cat', 'a mat'] });
  await expect(client.chat.completions.create({ model: 'sage-sim-llm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 400 }, { headers: { 'x-sage-slo-ms': '1' } })).rejects.toMatchObject({ status: 503 });
});
afterAll(async () => {
  await h?.stop();
});

it('exports vLLM-named request series for the served model, with vLLM buckets', async () => {
  const samples = await scrape();
  const of = (name: string, model = 'sage-sim-llm') => samples.filter((s) => s.name === name && s.labels.model_name === model);
  const ttft = of('vllm:time_to_first_token_seconds_bucket');
  expect(ttft.every((s) => s.labels.instance === 'default-llm')).toBe(true);
  expect(ttft.map((s) => s.labels.le)).toEqual([0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560].map(String).concat('+Inf'));
  expect(of('vllm:time_to_first_token_seconds_count')[0]!.value).toBe(1);
  expect(of('vllm:e2e_request_latency_seconds_count')[0]!.value).toBe(3);
  expect(of('vllm:e2e_request_latency_seconds_count', 'sage-sim-embedding')[0]!.value).toBe(1);
  expect(of('vllm:inter_token_latency_seconds_count')[0]!.value).toBeGreaterThan(5);
  expect(of('vllm:time_per_output_token_seconds_count')[0]!.value).toBe(1);
  expect(of('vllm:request_generation_tokens_sum')[0]!.value).toBe(16 + 8 + 4);
  expect(of('vllm:generation_tokens_total')[0]!.value).toBe(16 + 8 + 4);
  expect(of('vllm:request_prompt_tokens_count')[0]!.value).toBe(3);
  expect(of('vllm:request_success_total').find((s) => s.labels.finished_reason === 'length')!.value).toBe(3);
  expect(of('vllm:num_requests_running')[0]!.value).toBe(0);
  expect(samples.some((s) => s.name === 'vllm:num_requests_waiting')).toBe(true);
});

it('keeps control-plane series as sage_* and counts refusals by reason', async () => {
  const samples = await scrape();
  const value = (name: string, labels: Record<string, string>) => samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  expect(value('sage_requests_rejected_total', { reason: 'deadline_infeasible' })).toBe(1);
  expect(value('sage_slo_requests_total', { met: 'true', priority: 'normal' })).toBe(1);
  expect(value('sage_slo_requests_total', { met: 'false', priority: 'normal' })).toBe(1);
  expect(value('sage_engine_restarts_total', { engine: 'default-llm' })).toBe(0);
  expect(value('sage_queue_wait_seconds_count', {})).toBeGreaterThanOrEqual(4);
});

it('exports default process metrics under their standard names', async () => {
  const samples = await scrape();
  expect(samples.some((s) => s.name === 'process_cpu_seconds_total')).toBe(true);
  expect(samples.some((s) => s.name.startsWith('nodejs_'))).toBe(true);
  expect(samples.some((s) => s.name.startsWith('sage_process_'))).toBe(false);
});

it('adds at most one label value for 200 requests naming 200 unknown models', async () => {
  const values = (samples: Sample[]) => new Set(samples.flatMap((s) => [s.labels.model, s.labels.model_name]).filter((v) => v !== undefined));
  const before = values(await scrape());
  for (let i = 0; i < 200; i += 20) {
    const batch = Array.from({ length: 20 }, (_, k) =>
      fetch(`${h.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: `no-such-model-${i + k}`, messages: [{ role: 'user', content: 'hi' }] }) }),
    );
    for (const r of await Promise.all(batch)) expect(r.status).toBe(404);
  }
  const after = await scrape();
  const added = [...values(after)].filter((v) => !before.has(v));
  expect(added.length).toBeLessThanOrEqual(1);
  expect(after.find((s) => s.name === 'sage_http_requests_total' && s.labels.model === 'other' && s.labels.status === '404')?.value).toBe(200);
});

it('ships a Grafana dashboard whose every query reads a series /metrics exports', async () => {
  const dashboard = JSON.parse(readFileSync(path.resolve(__dirname, '../../../../docs/grafana/sage-dashboard.json'), 'utf8')) as {
    panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
    templating: { list: Array<{ name: string; query?: unknown }> };
  };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr })));
  for (const v of dashboard.templating.list) if (typeof v.query === 'object' && v.query) exprs.push({ where: `$${v.name}`, expr: (v.query as { query: string }).query });
  expect(exprs.length).toBeGreaterThan(15);
  const exported = new Set((await scrape()).map((s) => s.name));
  const missing = exprs.flatMap(({ where, expr }) => {
    const names = seriesNames(expr);
    if (names.length === 0) return [`${where}: no series in ${expr}`];
    return names.filter((n) => !exported.has(n)).map((n) => `${where}: ${n}`);
  });
  expect(missing).toEqual([]);
  // The vLLM panels filter on the model variable, whose values come from model_name.
  expect(exprs.filter((e) => e.expr.includes('vllm:')).every((e) => e.expr.includes('model_name'))).toBe(true);
});
