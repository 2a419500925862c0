// Progress while something slow happens: a spinner in a terminal, plain lines (only when the text changes) when
// output goes to a file, a pipe or a CI log, nothing at all with --json. The spinner (nanospinner) colours
// through picocolors, which leaves colour out for a non-empty NO_COLOR, a --no-color argument, or no terminal.
import { createSpinner } from 'nanospinner';
import type { Out } from './output';

export interface Progress {
  update(text: string): void;
  succeed(text: string): void;
  fail(text: string): void;
  /** Stops without a final line. */
  stop(): void;
}

/** A spinner redraws its line in place: that needs a terminal that reports its width, and no CI log. */
function canSpin(out: Out): boolean {
  return out.isTTY && Boolean(out.columns) && process.env.TERM !== 'dumb' && !('CI' in process.env);
}

export function createProgress(out: Out, initial: string, options: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): Progress {
  if (options.quiet) return { update() {}, succeed() {}, fail() {}, stop() {} };
  if (canSpin(out)) {
    // The spinner goes to stdout so that the final ✔ line stays with the command's other output.
    const spinner = createSpinner(initial, { stream: options.stream ?? process.stdout, color: 'cyan' }).start();
    return {
      update: (t) => {
        spinner.update(t);
      },
      succeed: (t) => spinner.success(t),
      fail: (t) => spinner.error(t),
      stop: () => spinner.stop(),
    };
  }
  let last = '';
  const line = (t: string) => {
    if (t === last) return;
    last = t;
    out.write(`${t}\n`);
  };
  line(initial);
  return {
    update: line,
    succeed: (t) => line(`✔ ${t}`),
    fail: (t) => line(`✖ ${t}`),
    stop: () => undefined,
  };
}
