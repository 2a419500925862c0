export { EngineExecutor } from './executor';
export type { ExecutorOptions, CallOptions, JsonResult, JsonSink, StreamResult } from './executor';
export { CircuitBreaker } from './circuit-breaker';
export type { CircuitBreakerOptions, CircuitState } from './circuit-breaker';
export { SseDataParser } from './sse';
export { StreamTimeouts } from './stream-timeouts';
export { END, iterateChunks, nextChunk, sourceOfIterable } from './chunk-source';
export type { Chunk, ChunkSource, Taken } from './chunk-source';
