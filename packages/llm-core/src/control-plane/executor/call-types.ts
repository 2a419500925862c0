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

export interface JsonResult {
  status: number;
  body: Record<string, unknown>;
  /** The body exactly as the engine sent it (relayed as is, it needs no serializing again). */
  text: string;
}
