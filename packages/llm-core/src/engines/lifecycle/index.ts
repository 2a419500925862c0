export * from './types';
export * from './errors';
export { probeEngineHealth, type HealthResult } from './health';
export { isAlive } from './process';
export { readStateFile, writeStateFile, type StateFileContent, type StoredEngine } from './state-file';
export * from './engine-lifecycle-manager';
export * from './supervisor';
