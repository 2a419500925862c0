export * from './types';
export * from './gpu-rule';
export * from './builders';
