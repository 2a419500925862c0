// Progress while something slow happens: an ora spinner in a terminal, plain lines (only when the text
// changes) when output goes to a file or a pipe, nothing at all with --json.
import ora from 'ora';
import type { Out } from './output';

export interface Progress {
  update(text: string): void;
  succeed(text: string): void;
  fail(text: string): void;
  /** Stops without a final line. */
  stop(): void;
}

export function createProgress(out: Out, initial: string, options: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): Progress {
  if (options.quiet) return { update() {}, succeed() {}, fail() {}, stop() {} };
  if (out.isTTY) {
    // The spinner goes to stdout so that the final ✔ line stays with the command's other output.
    const spinner = ora({ text: initial, stream: options.stream ?? process.stdout }).start();
    return {
      update: (t) => {
        spinner.text = t;
      },
      succeed: (t) => spinner.succeed(t),
      fail: (t) => spinner.fail(t),
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
