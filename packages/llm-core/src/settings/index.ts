export * from './attributes';
export * from './backend';
export * from './schema';
export * from './resolve';
export * from './runtime-options';
export * from './env-table';
