export * from './types';
export * from './errors';
export * from './health';
export * from './process';
export * from './state-file';
export * from './manager';
export * from './supervisor';
