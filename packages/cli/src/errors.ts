// Exit codes of the `sage` command (documented in the package README) and the one error type that carries them.

export const ExitCode = {
  OK: 0,
  /** Something failed (a request, a process, a timeout). */
  FAILURE: 1,
  /** Bad usage: unknown flag, missing argument, invalid value, malformed config file. */
  USAGE: 2,
  /** The control plane (or gateway) is not running / cannot be reached. */
  NOT_RUNNING: 3,
  /** It is already running. */
  ALREADY_RUNNING: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The stable name of an exit code, the `code` of a JSON error. */
const CODE_NAMES: Record<number, string> = { 0: 'ok', 1: 'failure', 2: 'usage', 3: 'not_running', 4: 'already_running' };

/**
 * What a failed command prints on stderr: one line for a person, or with --json one JSON document
 * `{"error":{"message","code","exitCode"}}` that a script can parse.
 */
export function errorText(message: string, exitCode: number, json: boolean): string {
  if (!json) return `${message}\n`;
  return `${JSON.stringify({ error: { message, code: CODE_NAMES[exitCode] ?? 'failure', exitCode } })}\n`;
}

/** An error meant for a person: `message` is printed as one line and the process exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.FAILURE,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string): CliError => new CliError(message, ExitCode.USAGE);

/** One line, whatever the error was. */
export function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' — ');
}
