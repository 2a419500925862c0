// The control plane's settings: one zod model read from the config file, SAGE_* environment variables,
// command-line flags, a preset's `control_plane:` section, the management API and
// UnifiedInferenceClient.create(). Keys are camelCase; files and bodies may use snake_case.
import { z } from 'zod';
import { EMBEDDING_PRIORITIES, LLM_FALLBACK_POLICIES, POLICY_NAMES } from '../control-plane/policies';
import { ROUTER_NAMES } from '../control-plane/routing';
import { DEFAULT_DEADLINE_CONFIDENCE } from '../control-plane/estimator/deadline-judge';
import { stateStoreSchema } from '../control-plane/state/store-url';
import { PRIORITY_NAMES, type PriorityName } from '../control-plane/types';
import { backendEntrySchema } from './backend';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** pretty: one readable line per record; json: pino's JSON lines. Unset: pretty in a terminal, else json. */
export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const int = (min: number, max: number) => z.number({ error: 'expected a number' }).int('expected a whole number').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);
const ms = (min = 0) => z.number({ error: 'expected a number (milliseconds)' }).min(min, `must be at least ${min}`).max(86_400_000, 'must be at most 86400000 (a day)');
const oneOf = <T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: (iss) => `expected one of ${values.join('|')}, got ${JSON.stringify(iss.input)}` });
const bool = z.boolean({ error: 'expected true or false' });

/** Some priority classes by name, each with its own value (classes not named keep the default). */
const perClass = <T extends z.ZodType>(value: T) =>
  z.strictObject(Object.fromEntries(PRIORITY_NAMES.map((n) => [n, value.optional()])) as Record<PriorityName, z.ZodOptional<T>>, {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `unknown class ${iss.keys.map((k) => JSON.stringify(k)).join(', ')} (classes: ${PRIORITY_NAMES.join(', ')})`
        : `expected a number or a map of class to number, e.g. {HIGH: 500, LOW: 10000}`,
  });
/** One queue-wait budget for every class, or some classes by name. */
const waitBudget = z.union([ms(), perClass(ms())], { error: 'expected a number (ms) or a map of class to ms, e.g. {HIGH: 500, LOW: 10000}' });

/**
 * What schedules requests and keeps engines alive: the part a preset (`control_plane:`), the management API
 * and UnifiedInferenceClient.create() may set.
 */
export const schedulingSettingsShape = {
  schedulingPolicy: oneOf(POLICY_NAMES).default('adaptive'),
  router: oneOf(ROUTER_NAMES).default('load_balanced'),
  // Prefill/decode separation: a long prompt's prefill runs on a PREFILLING instance, its decode on a DECODING one.
  pdSeparation: bool.default(false),
  pdMinInputTokens: int(1, 10_000_000).default(256),
  pdMinInputOutputRatio: z.number({ error: 'expected a number' }).min(0).max(1_000_000).default(1),
  // Embedding batching (the batcher, whatever the policy) and the hybrid policy's mix of embedding and LLM work.
  embeddingBatchSize: int(1, 4096).default(32),
  embeddingBatchWaitMs: ms().default(50),
  embeddingTokenBudget: int(1, 10_000_000).default(8192),
  embeddingPriority: oneOf(EMBEDDING_PRIORITIES).default('normal'),
  llmFallbackPolicy: oneOf(LLM_FALLBACK_POLICIES).default('adaptive'),
  // Admission and overload control: the wait budget bounds the queue by the wait it implies (p99 of admitted
  // requests without a deadline); shadow mode admits everything and only scores what would have been refused.
  queueWaitBudgetMs: waitBudget.default(2000),
  admissionShadow: bool.default(false),
  deadlineConfidence: z.number({ error: 'expected a number' }).gt(0.5, 'must be more than 0.5').lt(1, 'must be less than 1').default(DEFAULT_DEADLINE_CONFIDENCE),
  // Engine /metrics polling (load, KV cache, latency histograms for the estimator).
  engineMetricsPollMs: ms().default(1000),
  // Queue bounds and timeouts.
  maxQueueSize: int(1, 10_000_000).default(1000),
  maxQueueWaitMs: ms().default(60_000),
  requestTimeoutMs: ms(1).default(60_000),
  streamIdleTimeoutMs: ms().default(30_000),
  // Engine health checks and automatic restart.
  autoRestart: bool.default(true),
  maxRestartAttempts: int(0, 1000).default(3),
  restartBackoffMs: ms().default(1000),
  healthCheckIntervalMs: ms(10).default(5000),
  healthFailureThreshold: int(1, 1000).default(3),
};

/** How the server process starts: where it listens, what it logs, which engines and backends it brings up. */
export const serverSettingsShape = {
  host: z.string({ error: 'expected a string' }).min(1, 'must not be empty').default('127.0.0.1'),
  port: int(0, 65535).default(8000),
  logLevel: oneOf(LOG_LEVELS).default('info'),
  logFormat: oneOf(LOG_FORMATS).optional(),
  /** A built-in preset name or a YAML file; default: the embedded default unless backends are given. */
  preset: z.string({ error: 'expected a string' }).min(1, 'must not be empty').optional(),
  llmModel: z.string({ error: 'expected a string' }).min(1, 'must not be empty').optional(),
  embeddingModel: z.string({ error: 'expected a string' }).min(1, 'must not be empty').optional(),
  llmBackends: z.array(backendEntrySchema, { error: 'expected a list of backends' }).default([]),
  embeddingBackends: z.array(backendEntrySchema, { error: 'expected a list of backends' }).default([]),
  /**
   * Engine ports relative to this base, laid out like the defaults around 8000: LLM engines base+1…base+89,
   * embedding engines base+90…base+199, fallback base+900…base+999.
   */
  enginePortBase: int(1024, 64_000).default(8000),
  /** How long one engine may take to become healthy (vLLM loading a large model takes minutes). */
  engineStartupTimeoutSec: z.number({ error: 'expected a number (seconds)' }).positive('must be more than 0').max(3600).default(300),
  /** How long a stop lets in-flight requests finish. */
  drainTimeoutSec: z.number({ error: 'expected a number (seconds)' }).min(0).max(3600).default(10),
  /** Shared state between control-plane replicas: `local` (this process alone) or redis://HOST:PORT[/DB]. */
  stateStore: z
    .string({ error: 'expected a string' })
    .min(1, 'must not be empty')
    .superRefine((value, ctx) => {
      const parsed = stateStoreSchema.safeParse(value);
      if (!parsed.success) ctx.addIssue({ code: 'custom', message: parsed.error.issues[0]?.message ?? 'invalid address' });
    })
    .optional(),
};

export const schedulingSettingsSchema = z.strictObject(schedulingSettingsShape);
export const controlPlaneSettingsSchema = z.strictObject({ ...serverSettingsShape, ...schedulingSettingsShape });

export type SchedulingSettings = z.infer<typeof schedulingSettingsSchema>;
export type ControlPlaneSettings = z.infer<typeof controlPlaneSettingsSchema>;
export type ControlPlaneSettingsInput = z.input<typeof controlPlaneSettingsSchema>;
export type SchedulingSettingsInput = z.input<typeof schedulingSettingsSchema>;
export type SettingKey = keyof ControlPlaneSettings;
export type SchedulingSettingKey = keyof SchedulingSettings;

export const SETTING_KEYS = Object.keys(controlPlaneSettingsSchema.shape) as SettingKey[];
export const SCHEDULING_SETTING_KEYS = Object.keys(schedulingSettingsShape) as SchedulingSettingKey[];

/** A preset's `control_plane:` section: scheduling settings only, none required. */
export const presetControlPlaneSchema = z.strictObject(
  Object.fromEntries(Object.entries(schedulingSettingsShape).map(([k, v]) => [k, v.unwrap().optional()])) as {
    [K in SchedulingSettingKey]: z.ZodOptional<ReturnType<(typeof schedulingSettingsShape)[K]['unwrap']>>;
  },
);
export type PresetControlPlane = z.infer<typeof presetControlPlaneSchema>;

export function isSettingKey(key: string): key is SettingKey {
  return (SETTING_KEYS as string[]).includes(key);
}

/** What each key means, and the environment variable that sets it (none for the ones only a start needs). */
export const SETTING_DOCS: Readonly<Record<SettingKey, { env?: string; doc: string }>> = {
  host: { env: 'SAGE_HOST', doc: 'address the API binds (127.0.0.1; 0.0.0.0 for all interfaces)' },
  port: { env: 'SAGE_PORT', doc: 'port of the OpenAI and management API' },
  logLevel: { env: 'SAGE_LOG_LEVEL', doc: 'fatal | error | warn | info | debug | trace | silent' },
  logFormat: { env: 'SAGE_LOG_FORMAT', doc: 'log lines on stdout: pretty | json (default: pretty in a terminal, else json)' },
  preset: { env: 'SAGE_PRESET', doc: 'built-in preset name or YAML file of engines to start' },
  llmModel: { doc: "model name of the embedded default's LLM engine" },
  embeddingModel: { doc: "model name of the embedded default's embedding engine" },
  llmBackends: { env: 'SAGE_LLM_BACKENDS', doc: 'LLM servers started elsewhere: URL or url=…,model=…,type=…,cost=…,machine=…,rack=…,nvlink_group=…,max_concurrency=…,api_key=… (environment: separated by spaces or ";")' },
  embeddingBackends: { env: 'SAGE_EMBEDDING_BACKENDS', doc: 'embedding servers started elsewhere, same form' },
  enginePortBase: { env: 'SAGE_ENGINE_PORT_BASE', doc: 'engine ports: LLM base+1…89, embedding base+90…199, fallback base+900…999' },
  engineStartupTimeoutSec: { env: 'SAGE_ENGINE_STARTUP_TIMEOUT_SEC', doc: 'how long one engine may take to become healthy, s' },
  drainTimeoutSec: { env: 'SAGE_DRAIN_TIMEOUT_SEC', doc: 'how long a stop lets in-flight requests finish, s' },
  stateStore: { env: 'SAGE_STATE_STORE', doc: 'state shared with other replicas: local (this process alone) or redis://[:PASSWORD@]HOST:PORT[/DB]' },
  schedulingPolicy: { env: 'SAGE_SCHEDULING_POLICY', doc: `${POLICY_NAMES.join(' | ')}` },
  router: { env: 'SAGE_ROUTER', doc: `${ROUTER_NAMES.join(' | ')}` },
  pdSeparation: { env: 'SAGE_PD_SEPARATION', doc: 'prefill on PREFILLING instances, decode on DECODING ones, for long prompts' },
  pdMinInputTokens: { env: 'SAGE_PD_MIN_INPUT_TOKENS', doc: 'shortest prompt (tokens) worth separating' },
  pdMinInputOutputRatio: { env: 'SAGE_PD_MIN_INPUT_OUTPUT_RATIO', doc: 'smallest prompt/output token ratio worth separating' },
  embeddingBatchSize: { env: 'SAGE_EMBEDDING_BATCH_SIZE', doc: 'most texts in one embedding batch' },
  embeddingBatchWaitMs: { env: 'SAGE_EMBEDDING_BATCH_WAIT_MS', doc: 'how long a batch waits for company, ms' },
  embeddingTokenBudget: { env: 'SAGE_EMBEDDING_TOKEN_BUDGET', doc: 'most tokens in one embedding batch' },
  embeddingPriority: { env: 'SAGE_EMBEDDING_PRIORITY', doc: `hybrid: embeddings against LLM work, ${EMBEDDING_PRIORITIES.join(' | ')}` },
  llmFallbackPolicy: { env: 'SAGE_LLM_FALLBACK_POLICY', doc: `hybrid: the policy for LLM requests, ${LLM_FALLBACK_POLICIES.join(' | ')}` },
  queueWaitBudgetMs: { env: 'SAGE_QUEUE_WAIT_BUDGET_MS', doc: `longest queue wait a request without a deadline is admitted with (p99), else 429 with Retry-After, ms (0 = no bound); one number, or per class as HIGH=500,LOW=10000 (a map in a file or preset; classes not named keep 2000; classes: ${PRIORITY_NAMES.join(', ')})` },
  admissionShadow: { env: 'SAGE_ADMISSION_SHADOW', doc: 'admit everything; only count what admission would have refused and how often wrongly (/v1/metrics admission)' },
  deadlineConfidence: { env: 'SAGE_DEADLINE_CONFIDENCE', doc: 'a deadline is refused only when even the estimate this confident of being beaten misses it (0.5..1)' },
  engineMetricsPollMs: { env: 'SAGE_ENGINE_METRICS_POLL_MS', doc: "how often each engine's /metrics is read (load, KV cache, latency), ms (0 = never)" },
  maxQueueSize: { env: 'SAGE_MAX_QUEUE_SIZE', doc: 'queued requests before new ones get 429 queue_full' },
  maxQueueWaitMs: { env: 'SAGE_MAX_QUEUE_WAIT_MS', doc: 'longest wait in the queue before 503 queue_timeout, ms (0 = no bound)' },
  requestTimeoutMs: { env: 'SAGE_REQUEST_TIMEOUT_MS', doc: 'bound of a request (of a stream: until its first chunk), ms' },
  streamIdleTimeoutMs: { env: 'SAGE_STREAM_IDLE_TIMEOUT_MS', doc: 'longest silence inside a stream, ms (0 = no bound)' },
  autoRestart: { env: 'SAGE_AUTO_RESTART', doc: 'restart an engine that fails its health checks' },
  maxRestartAttempts: { env: 'SAGE_MAX_RESTART_ATTEMPTS', doc: 'restarts before an engine is left FAILED' },
  restartBackoffMs: { env: 'SAGE_RESTART_BACKOFF_MS', doc: 'first restart delay, doubling each attempt, ms' },
  healthCheckIntervalMs: { env: 'SAGE_HEALTH_CHECK_INTERVAL_MS', doc: 'time between engine health checks, ms' },
  healthFailureThreshold: { env: 'SAGE_HEALTH_FAILURE_THRESHOLD', doc: 'failed checks in a row before a restart' },
};

/** The defaults, as the schema gives them. */
export function defaultSettings(): ControlPlaneSettings {
  return controlPlaneSettingsSchema.parse({});
}
