// What a caller gives an engine call and what a JSON call gives back (executor.ts, json-call.ts).

export interface CallOptions {
  signal?: AbortSignal;
  /** Overrides requestTimeoutMs for this call. */
  timeoutMs?: number;
  /** Overrides streamIdleTimeoutMs for this call (postStream only). */
  idleTimeoutMs?: number;
  requestId?: string;
  /** The call may be cut by cutWaiting() while it waits for the engine's answer (default false). */
  cutWhenStalled?: boolean;
}

/**
 * Where a JSON call's outcome goes (EngineExecutor.postJsonTo): one of the two is called once. An answer is
 * handed over as the call ends; a failure a microtask later, as a rejected promise's would be.
 */
export interface JsonSink {
  answered(res: JsonResult): void;
  failed(err: unknown): void;
}

export interface JsonResult {
  status: number;
  body: Record<string, unknown>;
  /** The body exactly as the engine sent it (relayed as is, it needs no serializing again). */
  text: string;
}
