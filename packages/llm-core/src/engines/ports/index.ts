export * from './port-allocator';
