// Public API of @sage/llm-core (L2). Everything a consumer may use is exported here, and only here.
export * from './control-plane/types';
export * from './control-plane/classifier';
export * from './control-plane/estimator';
export * from './control-plane/routing';
export * from './control-plane/policies';
export * from './control-plane/metrics';
export * from './engines/kinds';
export * from './engines/gpu';
export * from './engines/ports';
export * from './engines/presets';
export * from './engines/lifecycle';
