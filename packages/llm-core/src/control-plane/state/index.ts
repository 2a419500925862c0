export { createStateStore, type StateStoreTuning } from './create-store';
export { LocalStateStore } from './local-store';
export { RedisStateStore, type RedisStateStoreOptions } from './redis-store';
export { SharedStateSync, type SharedStateSyncOptions } from './state-sync';
export { parseStateStoreUrl, stateStoreSchema, StateStoreUrlError, DEFAULT_REDIS_PORT, type StateStoreAddress } from './store-url';
export type { StateStore, StateStoreKind, StateStoreState, StateStoreStatus, StateStoreListener, SharedEvent, SharedInstanceEntry, SharedSnapshot } from './types';
