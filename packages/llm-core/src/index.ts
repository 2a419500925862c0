// Public API of @sage/llm-core (L2), grouped by what a consumer does. A name not listed here is internal: the
// package's own tests reach internals by relative path, and test helpers live in '@sage/llm-core/testing'.
// tests/api-report.test.ts fails when this list changes without api/exports.txt changing with it.

// Run a control-plane server (OpenAI API, management API, /health, /metrics, /dashboard).
export { startControlPlaneServer } from './server/start';
export type { ControlPlaneServerConfig, RunningControlPlane } from './server/start';
export { buildServer } from './server/app';
export type { ServerOptions } from './server/app';
export type { AccessLogLevel } from './server/access-log';
export { authConfigFromEnv, KeyRing } from './server/auth';
export type { AuthConfig, AuthScope } from './server/auth';

// Embed a control plane in a process: the runtime (scheduler plus the engines it owns), or the scheduler alone.
export { ControlPlaneRuntime, BackendRegistrationError } from './runtime/control-plane-runtime';
export type { RuntimeOptions, BackendRegistration } from './runtime/control-plane-runtime';
export { ControlPlaneManager } from './control-plane/manager';
export type {
  ControlPlaneManagerOptions,
  ManagerStatus,
  InstanceSpec,
  InferenceRequest,
  InferenceResult,
  InferenceStream,
  RequestTimings,
  ControlPlaneErrorType,
} from './control-plane/manager';
export { ControlPlaneError, RequestRejectedError, RequestCancelledError, UpstreamError, InvalidRequestError } from './control-plane/manager';
export { MetricsCollector } from './control-plane/metrics';
export type { MetricsSnapshot, MetricsCollectorOptions, RequestRecord, RequestOutcome, SloCompliance, InstanceMetrics, PriorityMetrics, LatencySet, LatencySummary } from './control-plane/metrics';
export { createLatencyEstimator, createLearnedLatencyEstimator, judgeDeadline } from './control-plane/estimator';
export type {
  LatencyEstimatorParams,
  LatencyBreakdown,
  DetailedLatencyEstimator,
  LearningLatencyEstimator,
  LearnedEstimatorOptions,
  LearntRates,
  AccuracySummary,
  DeadlineJudgement,
  DeadlineVerdict,
} from './control-plane/estimator';
export type { AdmissionOptions, AdmissionAuditSnapshot, ControlPlaneMetricsSnapshot } from './control-plane/manager';

// Configure a control plane: the one settings model (defaults < preset < config file < SAGE_* env < flags).
export {
  resolveSettings,
  controlPlaneSettingsSchema,
  SETTING_KEYS,
  isSettingKey,
  coerceSetting,
  publicSettings,
  LOG_LEVELS,
  LOG_FORMATS,
  SettingsError,
  defaultSettings,
} from './settings';
export type {
  ControlPlaneSettings,
  ControlPlaneSettingsInput,
  SchedulingSettings,
  SettingKey,
  SettingSource,
  SettingSources,
  SettingsLayers,
  ResolvedSettings,
  LogLevel,
  LogFormat,
  BackendDeclaration,
  PresetControlPlane,
  Placement,
  InstanceAttributes,
} from './settings';
export type { ReadinessStatus, ModelWait } from './runtime/readiness';
export type { ManagementSettings } from './server/routes/management';
// Share state between control-plane replicas (--state-store redis://...; none = one process, local state).
export { parseStateStoreUrl, DEFAULT_REDIS_PORT } from './control-plane/state';
export type { StateStore, StateStoreStatus, StateStoreState, StateStoreAddress } from './control-plane/state';

// The model shared by callers, policies and routers: requests, instances, decisions.
export { RequestType, RequestPriority, RequestStatus, InstanceType } from './control-plane/types';
export type {
  PriorityName,
  ChatMessageLike,
  CompletionPrompt,
  SamplingParams,
  RequestTimestamps,
  RequestMetadata,
  Topology,
  InstanceHealth,
  InstanceLoad,
  ExecutionInstance,
  SchedulingDecision,
  Rejection,
  LatencyEstimator,
  SchedulingContext,
  PolicyResult,
} from './control-plane/types';

// Write or choose a scheduling policy or a routing strategy: the contracts, and the built-in ones by name.
export type { SchedulingPolicy, RoutingStrategy } from './control-plane/types';
export { createPolicy, isPolicyName, POLICY_NAMES } from './control-plane/policies';
export type { PolicyName, PolicyOptions, LlmFallbackPolicy, EmbeddingPriority, InfeasibleAction } from './control-plane/policies';
export { createRouter, isRouterName, ROUTER_NAMES } from './control-plane/routing';
export type { RouterName, RouterOptions, Rng } from './control-plane/routing';
export { RequestClassifier } from './control-plane/classifier';
export type { ClassifiableRequest, ValidationCode, ValidationIssue } from './control-plane/classifier';

// Manage engines: lifecycle, GPUs, ports, presets.
export { EngineLifecycleManager, EngineState, EngineNotFoundError, EngineConflictError, EngineStartError } from './engines/lifecycle';
export type { LifecycleOptions, EngineStartSpec, EngineInfo, EngineEvent, EngineStateChange, EngineStateListener, RecoverReport, SupervisorOptions } from './engines/lifecycle';
export { ENGINE_KINDS, ENGINE_CATEGORIES, EngineSpecError } from './engines/kinds';
export type { EngineKind, EngineCategory, EngineRole, EngineSpec } from './engines/kinds';
export { GPUResourceManager, GpuAllocationError } from './engines/gpu';
export type { GpuInfo, GpuSource, GpuRequest, GpuAllocation, GpuStatus, GpuManagerOptions, GpuAllocationReason } from './engines/gpu';
export { PortAllocator, PortConflictError } from './engines/ports';
export type { PortKind, PortRange, PortRanges, PortAllocatorOptions, PortReservation, PortErrorReason } from './engines/ports';
export { loadPreset, parsePreset, listBuiltinPresets, planPreset, resolveStartPreset, DEFAULT_PRESET_NAME, PresetError } from './engines/presets';
export type { Preset, PresetEngine, PresetPlan, PlannedEngine, PlanOptions, StartPresetChoice, PresetApplyResult } from './engines/presets';

// Call a control plane (remote, or embedded in this process) from application code.
export { UnifiedInferenceClient } from './client';
export type { UnifiedClientOptions, UnifiedCallOptions, UnifiedEmbedOptions, InstanceInfo } from './client';
