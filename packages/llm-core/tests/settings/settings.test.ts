// The settings model: layers and their precedence, where each value came from, the environment's variables,
// backend declarations, a preset's control_plane: section, the default engine, and the README's table.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultEngineFor, detectMachine } from '../../src/engines/kinds';
import { getBuiltinPreset } from '../../src/engines/presets';
import {
  coerceSetting,
  defaultSettings,
  managerOptionsFrom,
  parseBackendSpec,
  settingsFromEnv,
  settingsMarkdownTable,
  supervisorOptionsFrom,
} from '../../src/settings';
import { parsePreset, planPreset, PresetError, resolveSettings, SettingsError } from '../../src';

describe('settings layers', () => {
  it('defaults < preset < file < environment < flags, and records where each value came from', () => {
    const { settings, sources } = resolveSettings({
      preset: { pd_separation: true, router: 'topology_aware', max_queue_size: 10 },
      file: { router: 'round_robin', port: 9000, request_timeout_ms: 5000 },
      env: { SAGE_PORT: '9100', SAGE_MAX_QUEUE_SIZE: '20', SAGE_LOG_LEVEL: 'warn' },
      flags: { port: 9200, logLevel: undefined },
    });
    expect(settings).toMatchObject({ pdSeparation: true, router: 'round_robin', port: 9200, maxQueueSize: 20, requestTimeoutMs: 5000, logLevel: 'warn', schedulingPolicy: 'adaptive' });
    expect(sources).toMatchObject({ pdSeparation: 'preset', router: 'file', port: 'flag', maxQueueSize: 'env', requestTimeoutMs: 'file', logLevel: 'env', schedulingPolicy: 'default' });
  });

  it('names the variable, the file or the preset key of a bad value', () => {
    expect(() => settingsFromEnv({ SAGE_PORT: 'eighty' })).toThrow(/SAGE_PORT: expected a number, got "eighty"/);
    expect(() => settingsFromEnv({ SAGE_PD_SEPARATION: 'maybe' })).toThrow(/SAGE_PD_SEPARATION: expected true or false/);
    expect(() => settingsFromEnv({ SAGE_SCHEDULING_POLICY: 'fastest' })).toThrow(/SAGE_SCHEDULING_POLICY: expected one of .*slo_aware/);
    expect(() => resolveSettings({ file: { prot: 1 }, fileName: 'config file x.yaml' })).toThrow(/config file x.yaml: unknown key "prot"/);
    expect(() => resolveSettings({ preset: { port: 1 } })).toThrow(SettingsError);
    expect(() => resolveSettings({ preset: { embedding_priority: 'urgent' } })).toThrow(/control_plane.embeddingPriority: expected one of high\|normal\|low\|adaptive/);
    // Unrelated SAGE_* variables and empty ones are not settings.
    expect(settingsFromEnv({ SAGE_HOME: '/x', SAGE_CHAT_MODEL: 'm', SAGE_PORT: '' })).toEqual({});
  });

  it('feeds the scheduler and the supervisor', () => {
    const { settings } = resolveSettings({
      flags: { pdSeparation: true, pdMinInputTokens: 100, embeddingBatchSize: 8, embeddingBatchWaitMs: 5, embeddingTokenBudget: 1000, embeddingPriority: 'high', llmFallbackPolicy: 'fifo', maxQueueWaitMs: 7, streamIdleTimeoutMs: 9, autoRestart: false, maxRestartAttempts: 1, restartBackoffMs: 2, healthCheckIntervalMs: 300, healthFailureThreshold: 4 },
    });
    expect(managerOptionsFrom(settings)).toMatchObject({
      enablePdSeparation: true,
      pdMinInputTokens: 100,
      embedding: { batchSize: 8, maxWaitMs: 5, maxBatchTokens: 1000 },
      // Batch sizes go to the batcher only: it alone decides what travels together.
      policyOptions: { embeddingPriority: 'high', llmFallbackPolicy: 'fifo' },
      maxQueueWaitMs: 7,
      streamIdleTimeoutMs: 9,
    });
    expect(supervisorOptionsFrom(settings)).toEqual({ autoRestart: false, maxRestartAttempts: 1, backoffBaseMs: 2, intervalMs: 300, failureThreshold: 4 });
  });
});

describe('queue wait budgets: one number, or per class', () => {
  it('a map in a file or preset, CLASS=NUMBER pairs or a number in the environment and flags, each with its source', () => {
    const file = resolveSettings({ file: { queue_wait_budget_ms: { HIGH: 500, LOW: 10_000 } } });
    expect(file.settings.queueWaitBudgetMs).toEqual({ HIGH: 500, LOW: 10_000 });
    expect(file.sources.queueWaitBudgetMs).toBe('file');
    expect(managerOptionsFrom(file.settings).admission).toMatchObject({ waitBudgetMs: { HIGH: 500, LOW: 10_000 } });
    const preset = resolveSettings({ preset: { queue_wait_budget_ms: { NORMAL: 3000 } } });
    expect(preset).toMatchObject({ settings: { queueWaitBudgetMs: { NORMAL: 3000 } }, sources: { queueWaitBudgetMs: 'preset' } });
    // Class names in the environment and --set are case-insensitive; a plain number is every class's budget.
    const env = resolveSettings({ file: { queue_wait_budget_ms: 100 }, env: { SAGE_QUEUE_WAIT_BUDGET_MS: ' HIGH=500, low=10000 ' } });
    expect(env).toMatchObject({ settings: { queueWaitBudgetMs: { HIGH: 500, LOW: 10_000 } }, sources: { queueWaitBudgetMs: 'env' } });
    expect(coerceSetting('queueWaitBudgetMs', '750')).toBe(750);
    expect(resolveSettings({ flags: { queueWaitBudgetMs: coerceSetting('queueWaitBudgetMs', 'BACKGROUND=0') } }).settings.queueWaitBudgetMs).toEqual({ BACKGROUND: 0 });
    expect(defaultSettings().queueWaitBudgetMs).toBe(2000);
  });

  it('names the bad class or value, and the layer it came from', () => {
    expect(() => settingsFromEnv({ SAGE_QUEUE_WAIT_BUDGET_MS: 'URGENT=5' })).toThrow(/SAGE_QUEUE_WAIT_BUDGET_MS: unknown class "URGENT" \(classes: CRITICAL, HIGH, NORMAL, LOW, BACKGROUND\)/);
    expect(() => settingsFromEnv({ SAGE_QUEUE_WAIT_BUDGET_MS: 'HIGH=soon' })).toThrow(/SAGE_QUEUE_WAIT_BUDGET_MS: HIGH: expected a number, got "soon"/);
    expect(() => settingsFromEnv({ SAGE_QUEUE_WAIT_BUDGET_MS: 'soon' })).toThrow(/SAGE_QUEUE_WAIT_BUDGET_MS: expected a number or CLASS=NUMBER pairs/);
    expect(() => settingsFromEnv({ SAGE_QUEUE_WAIT_BUDGET_MS: 'HIGH=-1' })).toThrow(/SAGE_QUEUE_WAIT_BUDGET_MS.HIGH: must be at least 0/);
    expect(() => resolveSettings({ file: { queue_wait_budget_ms: { LOW: 'later' } }, fileName: 'f.yaml' })).toThrow(/f.yaml: queueWaitBudgetMs.LOW: expected a number \(milliseconds\)/);
    expect(() => resolveSettings({ file: { queue_wait_budget_ms: 'soon' } })).toThrow(/queueWaitBudgetMs: expected a number \(ms\) or a map of class to ms/);
    expect(() => resolveSettings({ preset: { queue_wait_budget_ms: { high: 1 } } })).toThrow(/control_plane.queueWaitBudgetMs: unknown class "high"/);
  });
});

describe('backend declarations', () => {
  it('a bare URL, or url=…,model=…,type=…,cost=…, topology and key', () => {
    expect(parseBackendSpec('http://10.0.0.5:8001/v1')).toEqual({ url: 'http://10.0.0.5:8001/v1' });
    expect(parseBackendSpec('url=http://h:8001/v1,model=a,model=b,type=prefill,cost=2.5,machine=gpu-a,rack=r1,nvlink_group=g0,max_concurrency=16,api_key=sk-1,id=p0')).toEqual({
      url: 'http://h:8001/v1',
      models: ['a', 'b'],
      type: 'PREFILLING',
      costPerHour: 2.5,
      machine: 'gpu-a',
      rack: 'r1',
      nvlinkGroup: 'g0',
      maxConcurrency: 16,
      apiKey: 'sk-1',
      id: 'p0',
    });
    expect(() => parseBackendSpec('url=http://h:1/v1,colour=red')).toThrow(/unknown key "colour"/);
    expect(() => parseBackendSpec('url=http://h:1/v1,cost=cheap')).toThrow(/cost: expected a number/);
    expect(() => parseBackendSpec('model=m')).toThrow(/url=… is required/);
    expect(() => parseBackendSpec('url=ftp://h/v1')).toThrow(/url: expected an http\(s\) URL/);
    expect(() => parseBackendSpec('url=http://h:1/v1,type=SIDEWAYS')).toThrow(/type: expected one of GENERAL\|PREFILLING/);
  });

  it('environment lists are separated by spaces or ";"', () => {
    const env = settingsFromEnv({ SAGE_LLM_BACKENDS: 'http://a:1/v1; url=http://b:2/v1,cost=1' });
    expect(resolveSettings({ env: { SAGE_LLM_BACKENDS: 'http://a:1/v1; url=http://b:2/v1,cost=1' } }).settings.llmBackends).toEqual([{ url: 'http://a:1/v1' }, { url: 'http://b:2/v1', costPerHour: 1 }]);
    expect(env.llmBackends).toHaveLength(2);
  });
});

describe('presets', () => {
  it('sim-pd turns prefill/decode separation on by itself; its engines are PREFILLING and DECODING', () => {
    const p = getBuiltinPreset('sim-pd');
    expect(p?.controlPlane).toEqual({ pdSeparation: true });
    expect(p?.engines.map((e) => e.instanceType)).toEqual(['PREFILLING', 'DECODING', undefined]);
  });

  it('engines carry price, topology and an API key; control_plane is validated', () => {
    const p = parsePreset(`
version: 1
name: priced
control_plane: { scheduling_policy: cost_optimized, pd_separation: true }
engines:
  - { name: a, kind: llm, engine: sim-llm, model: m, cost_per_hour: 1.5, machine: gpu-a, rack: r1, nvlink_group: g0, api_key: sk-x }
`);
    expect(p.controlPlane).toEqual({ schedulingPolicy: 'cost_optimized', pdSeparation: true });
    expect(p.engines[0]).toMatchObject({ costPerHour: 1.5, machine: 'gpu-a', rack: 'r1', nvlinkGroup: 'g0', apiKey: 'sk-x' });
    expect(() => parsePreset('version: 1\nname: x\ncontrol_plane: { port: 1 }\nengines: [{ name: a, kind: llm, model: m }]\n')).toThrow(PresetError);
    expect(() => parsePreset('version: 1\nname: x\nengines: [{ name: a, kind: llm, model: m, cost_per_hour: -1 }]\n')).toThrow(/engines\[0\]\.costPerHour: must be 0 or more/);
  });
});

describe('default engine for a declaration without engine:', () => {
  it('the simulators without a GPU or engine executables, the real engines with them', () => {
    const bare = { gpu: false, binaries: { vllm: false, tei: false } };
    expect(defaultEngineFor('llm', bare)).toMatchObject({ engine: 'sim-llm', simulated: true, reason: expect.stringMatching(/no GPU and no vllm executable/) });
    expect(defaultEngineFor('embedding', bare).engine).toBe('sim-embedding');
    expect(defaultEngineFor('llm', { gpu: true, binaries: { vllm: true, tei: false } }).engine).toBe('vllm');
    expect(defaultEngineFor('llm', { gpu: false, binaries: { vllm: true, tei: true } }).engine).toBe('sim-llm');
    expect(defaultEngineFor('embedding', { gpu: false, binaries: { vllm: false, tei: true } }).engine).toBe('tei');
  });

  it('on this machine (no GPU, no engine executables) a preset without engine: plans simulators', () => {
    const machine = detectMachine({ PATH: '/nonexistent', SAGE_GPU_MOCK_COUNT: '0' });
    expect(machine).toEqual({ gpu: false, binaries: { vllm: false, tei: false } });
    const plan = planPreset(parsePreset('version: 1\nname: bare\nengines: [{ name: a, kind: llm, model: m }, { name: b, kind: embedding, model: e }]\n'), { machine });
    expect(plan.engines.map((e) => e.engine)).toEqual(['sim-llm', 'sim-embedding']);
    expect(detectMachine({ PATH: '', SAGE_GPU_MOCK_COUNT: '2' }).gpu).toBe(true);
  });
});

it('the README documents every setting in one table, as the code defines them', () => {
  const readme = fs.readFileSync(path.resolve(__dirname, '..', '..', 'README.md'), 'utf8');
  expect(readme).toContain(settingsMarkdownTable());
});
