// An engine's log file: every start appends a header line, so the tail shown in start errors is this run's.
import * as fs from 'node:fs';
import * as path from 'node:path';

const START_HEADER = '\n=== ';

/** Appends the start header (creating the log directory if needed). */
export function writeStartHeader(file: string, at: string, shownCommand: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, `${START_HEADER}${at} sage starts: ${shownCommand}\n`);
}

/** The last lines the engine wrote since its latest start (earlier runs share the file). */
export function tail(file: string, lines = 20): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    const at = text.lastIndexOf(START_HEADER);
    const sinceStart = at < 0 ? text : text.slice(text.indexOf('\n', at + 1) + 1); // without the header line
    return sinceStart.split('\n').slice(-lines - 1).join('\n').trim();
  } catch {
    return '';
  }
}
