export * from './schema';
export * from './builtin';
export * from './resolve';
export * from './plan';
export * from './apply';
export * from './load';
export * from './start-preset';
