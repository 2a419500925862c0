export { launchSimEngine, simEngineMain, launchedPids } from './launcher';
export type { LaunchOptions, LaunchedEngine, SimEngineKind } from './launcher';
