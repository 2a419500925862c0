// @sage/llm-core/testing: helpers for tests and benchmarks of the control plane, kept out of the main entry.
// launchSimEngine starts a bare built-in engine (no port allocator, health checks or restarts); product code
// starts engines through EngineLifecycleManager (ControlPlaneRuntime) instead.
export { launchSimEngine, simEngineMain, launchedPids } from './sim-engine-launcher';
export type { LaunchOptions, LaunchedEngine, SimEngineKind } from './sim-engine-launcher';
