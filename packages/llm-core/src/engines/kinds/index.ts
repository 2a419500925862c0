export * from './types';
export * from './gpu-rule';
export * from './builders';
export * from './default-engine';
