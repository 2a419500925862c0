// Public API of @sage/llm-core (L2). Everything a consumer may use is exported here, and only here.
export * from './control-plane/types';
