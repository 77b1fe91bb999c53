/**
 * `amicleaner history`: read-only audit of past runs from the ledger (the local store under
 * `.amicleaner/`, or `--ledger-table` in DynamoDB). `--run ID` lists every item of one run.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { type CliDeps, openLedger } from '../deps.ts';
import type { CliIo } from '../io.ts';
import { addWideOption, tableIo } from '../options.ts';

export type {
  HistoryItemJson,
  HistoryListJson,
  HistoryRunDetailJson,
  HistoryRunJson,
} from '../history-view.ts';

interface HistoryFlags {
  ledgerTable?: string;
  region?: string;
  limit: number;
  run?: string;
  json: boolean;
  wide: boolean;
}

export const DEFAULT_HISTORY_LIMIT = 20;

export function registerHistoryCommand(program: Command, io: CliIo, deps: CliDeps): void {
  addWideOption(
    program
      .command('history')
      .description(
        "list past runs from the ledger, newest first; --run ID lists that run's AMIs and snapshots",
      )
      .option('--ledger-table <name>', 'DynamoDB ledger table (default: the local store in ./.amicleaner/)')
      .option('--region <region>', 'AWS region of --ledger-table (default: the SDK configuration)')
      .option('--limit <n>', 'how many runs to list', positiveInteger('--limit'), DEFAULT_HISTORY_LIMIT)
      .option(
        '--run <id>',
        'list every AMI and snapshot of this run, with its final status',
        nonEmpty('--run'),
      )
      .option('--json', 'print JSON only', false),
  ).action(async (flags: HistoryFlags) => {
    const { showHistory } = await import('../history-view.ts');
    const opened = await (deps.openLedger ?? openLedger)({
      tableName: flags.ledgerTable,
      region: flags.region,
      create: false,
    });
    try {
      if (!flags.json && io.stderrIsTty) io.err(`Reading the ledger in ${opened.where} ...\n`);
      await showHistory(
        opened,
        { limit: flags.limit, run: flags.run, json: flags.json, width: tableIo(io, flags).columns },
        io,
      );
    } finally {
      await opened.close();
    }
  });
}

// ----- flags ----------------------------------------------------------------------------------

function positiveInteger(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1)
      throw new InvalidArgumentError(`${flag} must be a whole number >= 1, got "${value}"`);
    return n;
  };
}

function nonEmpty(flag: string) {
  return (value: string): string => {
    if (value.trim() === '') throw new InvalidArgumentError(`${flag} needs a value`);
    return value;
  };
}
