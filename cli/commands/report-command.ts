/**
 * Registers `amicleaner report`. Only its flags are declared here; the command module (and the
 * ledger and table code it pulls in) is imported when the command runs, so start-up stays fast.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_SNAPSHOT_PRICE_PER_GIB_MONTH } from '../../functions/core/summary.ts';
import type { CliDeps } from '../deps.ts';
import type { CliIo } from '../io.ts';
import type { ReportFlags } from './report.ts';

export function registerReportCommand(program: Command, io: CliIo, deps: CliDeps): void {
  program
    .command('report')
    .description('total what the cleanup removed, freed, saved and restored, per month, group and region')
    .option('--ledger-table <name>', 'DynamoDB ledger table (default: the local store in ./.amicleaner/)')
    .option('--region <region>', 'AWS region of --ledger-table (default: the SDK configuration)')
    .option('--since <YYYY-MM>', 'count only what happened in this month (UTC) or later', month)
    .option(
      '--price-per-gib-month <usd>',
      'snapshot storage price the saving is estimated at',
      price,
      DEFAULT_SNAPSHOT_PRICE_PER_GIB_MONTH,
    )
    .addOption(new Option('--json', 'print JSON only').default(false).conflicts('csv'))
    .addOption(new Option('--csv', 'print CSV only (safe to open in a spreadsheet)').default(false))
    .action(async (flags: ReportFlags) => {
      const { runReport } = await import('./report.ts');
      await runReport(flags, io, deps);
    });
}

function month(value: string): string {
  const match = /^(\d{4})-(\d{2})$/.exec(value);
  if (!match || Number(match[2]) < 1 || Number(match[2]) > 12)
    throw new InvalidArgumentError(`--since must be a month like 2026-05, got "${value}"`);
  return value;
}

function price(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError(`--price-per-gib-month must be a number >= 0, got "${value}"`);
  return n;
}
