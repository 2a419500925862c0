// Errors of the engine lifecycle: SageErrors whose status and code the management API answers with.
import { SageError } from '@sage/common';

/** Engine id unknown to the lifecycle manager (404 on the management API). */
export class EngineNotFoundError extends SageError {
  constructor(readonly engineId: string) {
    super(`engine ${engineId} not found`, { status: 404, code: 'engine_not_found', param: 'id' });
  }
}

/** Id already in use by a live engine, or an operation that does not fit the engine's state (409). */
export class EngineConflictError extends SageError {
  constructor(message: string) {
    super(message, { status: 409, code: 'engine_conflict' });
  }
}

/** The engine process did not become healthy (exited, or start-up timeout). Carries the end of its log. */
export class EngineStartError extends SageError {
  constructor(
    readonly engineId: string,
    message: string,
    readonly logTail: string,
  ) {
    super(`engine ${engineId} failed to start: ${message}${logTail ? `\n--- last log lines ---\n${logTail}` : ''}`, { status: 502, code: 'engine_start' });
  }
}
