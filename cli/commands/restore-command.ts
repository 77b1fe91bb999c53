/**
 * Registers `amicleaner restore`. Only its flags are declared here; the command module (SDK,
 * ledger, tables) is imported when the command runs, so start-up stays fast.
 */
import { type Command, InvalidArgumentError } from 'commander';
import type { CliDeps } from '../deps.ts';
import type { CliIo } from '../io.ts';
import { addWideOption } from '../options.ts';
import type { RestoreFlags } from './restore.ts';

const AMI_ID = /^ami-[0-9a-f]{8,17}$/;
const RUN_ID = /^[A-Za-z0-9_-]{1,80}$/;

export function registerRestoreCommand(program: Command, io: CliIo, deps: CliDeps): void {
  addWideOption(
    program
      .command('restore')
      .description(
        'bring back from the EC2 Recycle Bin what a run deleted (snapshots first, then the AMI); needs Recycle Bin retention on when the run deleted',
      )
      .requiredOption('--run <id>', 'the run whose deletions to restore (see `amicleaner history`)', runId)
      .option(
        '--ami <id...>',
        'only these AMIs of the run (repeatable; default: everything the run deleted)',
        amiIds,
      )
      .option('--dry-run', 'list what would be restored and what cannot be, change nothing', false)
      .option('--region <region>', 'AWS region the run worked on (default: the SDK configuration)')
      .option('--ledger-table <name>', 'DynamoDB ledger table (default: the local store in ./.amicleaner/)')
      .option('--json', 'print JSON only', false),
  ).action(async (flags: RestoreFlags) => {
    const { runRestoreCommand } = await import('./restore.ts');
    await runRestoreCommand(flags, io, deps);
  });
}

function runId(value: string): string {
  if (!RUN_ID.test(value))
    throw new InvalidArgumentError(`--run must be a run id (letters, digits, - and _), got "${value}"`);
  return value;
}

function amiIds(value: string, previous: string[] | undefined): string[] {
  if (!AMI_ID.test(value))
    throw new InvalidArgumentError(`--ami must be an AMI id like ami-0123456789abcdef0, got "${value}"`);
  return [...(previous ?? []), value];
}
