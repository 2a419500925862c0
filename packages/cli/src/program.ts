// The `sage` command tree and its error handling: every failure ends as one line on stderr and an exit code
// (see errors.ts); commander's own usage errors (unknown flag, missing argument) exit 2.
import { Command, CommanderError } from 'commander';
import { gatewayCommand } from './commands/gateway';
import { inferenceCommand } from './commands/inference';
import { llmCommand } from './commands/llm';
import type { Context } from './commands/shared';
import { CliError, errorText, ExitCode, oneLine } from './errors';
import { sageHome } from './home';
import { processOut, type Out } from './output';
import { cliVersion } from './version';

/** Multi-letter short flags people know from vLLM; commander only has one-letter short flags. */
const ALIASES: Record<string, string> = { '-tp': '--tensor-parallel', '-pp': '--pipeline-parallel' };

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Applies the error behaviour to every command (settings are not inherited by commands built separately). */
function configureTree(cmd: Command, failures: { cmd?: Command }): void {
  cmd.exitOverride();
  cmd.showSuggestionAfterError(true);
  cmd.configureOutput({
    // Collected and printed as one line by run(); commander's multi-line output is not for scripts.
    outputError: () => {
      failures.cmd = cmd;
    },
  });
  for (const sub of cmd.commands) configureTree(sub, failures);
}

export function buildProgram(ctx: Context): Command {
  const program = new Command('sage')
    .description('sage: an LLM inference control plane — an OpenAI-compatible endpoint with scheduling, routing and engine lifecycle')
    .version(cliVersion(), '-V, --version')
    // Colour is decided where it is drawn (progress.ts): NO_COLOR or this flag turns it off. Declared here so every
    // command accepts it; commander reads program options after the subcommand too.
    .option('--no-color', 'no colours in the output (as does a non-empty NO_COLOR)')
    .addHelpText(
      'after',
      `
Quick start:
  sage inference start --background   start the control plane with the built-in engines
  sage inference status               engines, their state and load
  sage llm engine list                what the control plane runs
  sage inference stop                 stop it (and its engines)

State lives in $SAGE_HOME (now ${ctx.home.root}); NO_COLOR=1 or --no-color turns colours off.
Exit codes: 0 ok, 1 failure, 2 usage or config error, 3 not running, 4 already running.
With --json, an error is one JSON line on stderr: {"error":{"message","code","exitCode"}}.`,
    );
  program.addCommand(inferenceCommand(ctx));
  program.addCommand(llmCommand(ctx));
  program.addCommand(gatewayCommand(ctx));
  return program;
}

/** --json anywhere before a `--` (options after it belong to another program). */
function wantsJson(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).includes('--json');
}

/** Runs the command line (without `node sage.js`) and resolves the exit code. */
export async function run(argv: readonly string[], options: { out?: Out; env?: NodeJS.ProcessEnv } = {}): Promise<number> {
  const out = options.out ?? processOut;
  const args = argv.map((a) => ALIASES[a] ?? a);
  const ctx: Context = { home: sageHome(options.env), out, argv: args, exitCode: ExitCode.OK };
  const failures: { cmd?: Command } = {};
  const program = buildProgram(ctx);
  configureTree(program, failures);
  const fail = (message: string, code: ExitCode): ExitCode => {
    out.error(errorText(message, code, wantsJson(args)));
    return code;
  };
  try {
    await program.parseAsync(args, { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return ExitCode.OK;
      if (err.code === 'commander.help' || err.code === 'commander.executeSubCommandAsync') return ExitCode.USAGE;
      const where = failures.cmd ? commandPath(failures.cmd) : 'sage';
      const message = oneLine(err.message.replace(/^error: /, '').replace(/\.\s*$/, '')).replace(/\s*—\s*\(Did you mean (.+)\?\)$/, ' (did you mean $1?)');
      return fail(`${where}: ${message}; see: ${where} --help`, ExitCode.USAGE);
    }
    if (err instanceof CliError) return fail(`sage: ${oneLine(err)}`, err.exitCode);
    return fail(`sage: ${oneLine(err)}`, ExitCode.FAILURE);
  }
}
