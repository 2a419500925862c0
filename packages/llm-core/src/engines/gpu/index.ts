export * from './types';
export * from './nvidia-smi';
export * from './memory';
export * from './gpu-resource-manager';
