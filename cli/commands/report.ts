/**
 * `amicleaner report`: what the cleanup has removed, freed and restored over time, totalled per
 * month, group and region from the ledger (the local store under `.amicleaner/`, or
 * `--ledger-table`). Read-only. Loaded on first use (see report-command.ts).
 */

import { mapWithConcurrency } from '../../functions/adapters/concurrency.ts';
import type { LedgerItem, RunRecord } from '../../functions/adapters/ledger/index.ts';
import type { RunStatus } from '../../functions/core/workflow.ts';
import { toCsv } from '../audit/csv.ts';
import { type AuditTotals, auditTotals, type TotalsRow } from '../audit/totals.ts';
import type { CliDeps } from '../deps.ts';
import type { CliIo } from '../io.ts';
import { type LedgerLocation, ledgerUnavailable, type OpenedLedger, openLedger } from '../ledger-location.ts';
import { table } from '../report.ts';

export interface ReportFlags {
  readonly ledgerTable?: string;
  readonly region?: string;
  readonly since?: string;
  readonly pricePerGibMonth: number;
  readonly json: boolean;
  readonly csv: boolean;
}

/** More runs than a ledger holds in years of daily runs; reaching it is said, not hidden. */
export const REPORT_RUN_LIMIT = 100_000;
/** Runs whose items are read at once (each read pages through one run's items). */
const READ_CONCURRENCY = 4;
/** These never delete (and so have nothing to restore): their items need not be read. */
const NOTHING_DELETED: ReadonlySet<RunStatus> = new Set([
  'DRY_RUN',
  'REJECTED',
  'EXPIRED',
  'NOTHING_TO_DELETE',
  'SKIPPED_LOCKED',
  'AWAITING_APPROVAL',
]);

export interface AuditReportJson extends AuditTotals {
  readonly ledger: LedgerLocation;
  readonly runsRead: number;
  /** True when REPORT_RUN_LIMIT was reached: older runs are not in the totals. */
  readonly truncated: boolean;
  readonly since: string | null;
  readonly pricePerGibMonth: number;
}

export async function runReport(flags: ReportFlags, io: CliIo, deps: CliDeps): Promise<void> {
  const open = deps.openLedger ?? openLedger;
  const opened = await open({ tableName: flags.ledgerTable, region: flags.region, create: false });
  try {
    if (!flags.json && !flags.csv && io.stderrIsTty) io.err(`Reading the ledger in ${opened.where} ...\n`);
    const { runs, items } = await readLedger(opened);
    const totals = auditTotals(items, {
      pricePerGibMonth: flags.pricePerGibMonth,
      ...(flags.since === undefined ? {} : { since: flags.since }),
    });
    const report: AuditReportJson = {
      ledger: opened.location,
      runsRead: runs.length,
      truncated: runs.length >= REPORT_RUN_LIMIT,
      since: flags.since ?? null,
      pricePerGibMonth: flags.pricePerGibMonth,
      ...totals,
    };
    if (flags.json) io.out(`${JSON.stringify(report, null, 2)}\n`);
    else if (flags.csv) io.out(reportCsv(report));
    else io.out(reportText(report, opened.where));
  } finally {
    await opened.close();
  }
}

async function readLedger(opened: OpenedLedger): Promise<{ runs: RunRecord[]; items: LedgerItem[] }> {
  try {
    const runs = await opened.ledger.listRuns({ limit: REPORT_RUN_LIMIT });
    const deleting = runs.filter((run) => !NOTHING_DELETED.has(run.status));
    const perRun = await mapWithConcurrency(deleting, READ_CONCURRENCY, (run) =>
      opened.ledger.listItems(run.runId),
    );
    return { runs, items: perRun.flat() };
  } catch (error) {
    // Fail closed: a partial read would print totals that look complete.
    throw ledgerUnavailable(error, opened.where);
  }
}

const HEADER = ['Runs', 'AMIs removed', 'Snapshots deleted', 'GiB freed', 'USD/month saved', 'Restored'];

const cells = (row: TotalsRow): (string | number)[] => [
  row.runs,
  row.amisRemoved,
  row.snapshotsDeleted,
  row.gibFreed,
  row.monthlySavingUsd.toFixed(2),
  row.restored,
];

function reportText(report: AuditReportJson, where: string): string {
  const since = report.since ? ` since ${report.since}` : '';
  const out = [
    `Cleanup report${since} from ${where} (${report.runsRead} runs read):`,
    `Savings at ${report.pricePerGibMonth} USD per GiB-month are upper bounds: snapshots are incremental.`,
  ];
  if (report.truncated)
    out.push(`Only the newest ${REPORT_RUN_LIMIT} runs were read; older ones are left out.`);
  if (report.byMonth.length === 0) {
    out.push('Nothing removed, freed or restored yet.');
    return `${out.join('\n')}\n`;
  }
  const section = (title: string, first: string, rows: readonly TotalsRow[], withTotal = false) => {
    const body = rows.map((row) => [row.key, ...cells(row)]);
    if (withTotal) body.push(['Total', ...cells(report.total)]);
    out.push('', `${title}:`, table([first, ...HEADER], body));
  };
  section('By month (UTC)', 'Month', report.byMonth, true);
  section('By group', 'Group', report.byGroup);
  section('By region', 'Region', report.byRegion);
  return `${out.join('\n')}\n`;
}

function reportCsv(report: AuditReportJson): string {
  const rows = (breakdown: string, list: readonly TotalsRow[]) =>
    list.map((row) => [breakdown, row.key, ...cells(row).map(Number)]);
  return toCsv(
    [
      'breakdown',
      'key',
      'runs',
      'amis_removed',
      'snapshots_deleted',
      'gib_freed',
      'usd_per_month_saved',
      'restored',
    ],
    [
      ...rows('month', report.byMonth),
      ...rows('group', report.byGroup),
      ...rows('region', report.byRegion),
      ...rows('total', [report.total]),
    ],
  );
}
