export { UnifiedInferenceClient } from './unified-client';
export type { UnifiedClientOptions } from './unified-client';
export type { CallOptions as UnifiedCallOptions, EmbedOptions as UnifiedEmbedOptions, InstanceInfo } from './backend';
