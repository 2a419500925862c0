/** Engine id unknown to the lifecycle manager (404 on the management API). */
export class EngineNotFoundError extends Error {
  readonly status = 404;
  constructor(readonly engineId: string) {
    super(`engine ${engineId} not found`);
    this.name = 'EngineNotFoundError';
  }
}

/** Id already in use by a live engine, or an operation that does not fit the engine's state (409). */
export class EngineConflictError extends Error {
  readonly status = 409;
  constructor(message: string) {
    super(message);
    this.name = 'EngineConflictError';
  }
}

/** The engine process did not become healthy (exited, or start-up timeout). Carries the end of its log. */
export class EngineStartError extends Error {
  readonly status = 502;
  constructor(
    readonly engineId: string,
    message: string,
    readonly logTail: string,
  ) {
    super(`engine ${engineId} failed to start: ${message}${logTail ? `\n--- last log lines ---\n${logTail}` : ''}`);
    this.name = 'EngineStartError';
  }
}
