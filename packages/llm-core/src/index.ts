// Public API of @sage/llm-core (L2). Everything a consumer may use is exported here, and only here.
export * from './control-plane/types';
export * from './control-plane/classifier';
export * from './control-plane/estimator';
export * from './control-plane/routing';
export * from './control-plane/policies';
export * from './control-plane/metrics';
export * from './engines/sim';
export * from './engines/kinds';
export * from './engines/gpu';
export * from './engines/ports';
export * from './engines/presets';
export * from './engines/lifecycle';
export * from './control-plane/manager';
export * from './control-plane/executor';
export * from './control-plane/batching';
export * from './control-plane/pd';
export * from './control-plane/launcher';
export * from './client';
export { ControlPlaneRuntime, BackendRegistrationError } from './runtime/control-plane-runtime';
export type { RuntimeOptions, BackendRegistration } from './runtime/control-plane-runtime';
export { buildServer } from './server/app';
export type { ServerOptions } from './server/app';
export { startControlPlaneServer } from './server/start';
export type { ControlPlaneServerConfig, RunningControlPlane } from './server/start';
export { authConfigFromEnv, KeyRing } from './server/auth';
export type { AuthConfig } from './server/auth';
<<<<<<< HEAD
export * from './settings';
export type { ReadinessStatus, ModelWait } from './runtime/readiness';
export type { ManagementSettings } from './server/routes/management';
=======
export { createStateStore, parseStateStoreUrl, stateStoreSchema, StateStoreUrlError } from './control-plane/state';
export type { StateStore, StateStoreStatus, StateStoreState, StateStoreTuning, StateStoreAddress } from './control-plane/state';
>>>>>>> 6e47ae4 (state: a StateStore (local default, Redis shared) through which control-plane replicas share instances, slots (leases in one Lua round trip, TTL-renewed), health, circuits and affinity; /health reports state_store, /health/ready added)
