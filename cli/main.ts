/**
 * The `amicleaner` command line. Commands only parse, connect and print; planning and deletion
 * live in functions/ and are shared with the Lambdas. This module and the commands' definitions
 * are light: each command loads what it needs when it runs, so `--version` and `--help` start fast.
 */
import { Command, CommanderError } from 'commander';
import { registerHistoryCommand } from './commands/history.ts';
import { registerPlanCommand } from './commands/plan.ts';
import { registerReportCommand } from './commands/report-command.ts';
import { registerRestoreCommand } from './commands/restore-command.ts';
import { registerRunCommands } from './commands/run.ts';
import { type CliDeps, defaultCliDeps } from './deps.ts';
import { exitCodeFor, formatError } from './errors.ts';
import { type CliIo, processIo } from './io.ts';
import { packageVersion } from './version.ts';

export function buildProgram(io: CliIo, deps: CliDeps = defaultCliDeps): Command {
  const program = new Command('amicleaner')
    .description('Find and remove old AMIs and their snapshots, only after approval of the exact plan.')
    // `-v` as in aws-amicleaner.
    .version(packageVersion(), '-v, --version', 'print the version number')
    .configureHelp({ showGlobalOptions: true });
  registerPlanCommand(program, io, deps);
  registerRunCommands(program, io, deps);
  registerHistoryCommand(program, io, deps);
  registerReportCommand(program, io, deps);
  registerRestoreCommand(program, io, deps);
  // Errors are printed once, as one line, by main(); commander must not print or exit itself.
  for (const command of [program, ...program.commands]) {
    command
      .exitOverride()
      .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s), outputError: () => {} });
  }
  return program;
}

/** Runs the CLI and returns the exit code: 0 done, 1 refused or failed, 2 bad input or unreachable. */
export async function main(
  argv: string[],
  io: CliIo = processIo(),
  deps: CliDeps = defaultCliDeps,
): Promise<number> {
  const program = buildProgram(io, deps);
  if (argv.length === 0) {
    // Bare `amicleaner` is a question, not a mistake: the help, on stdout, exit 0.
    io.out(program.helpInformation());
    return 0;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError && error.exitCode === 0) return 0; // --help, --version
    io.err(formatError(error, wantsJson(argv)));
    return exitCodeFor(error);
  }
}

/** `--json` anywhere before `--`: errors found while parsing are JSON too, not only later ones. */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}
