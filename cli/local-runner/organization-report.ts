/**
 * The end-of-run report of an organization run: one line per account and region (what each
 * target run did, from its own ledger record), the AMIs kept because another account uses them,
 * and the run's totals. Built from the ledger, like the single-account report.
 */
import type { LedgerItem } from '../../functions/adapters/ledger/index.ts';
import type { TargetRunSummary } from '../../functions/core/workflow.ts';
import { droppedNote, fitTable, prose, table, WRAP_WIDTH } from '../report.ts';
import { summaryLine } from './run-report.ts';
import type { LocalRunResult } from './run-workflow.ts';

/** Keep reasons that name another account's use (core/cross-account-use.ts). */
const OTHER_ACCOUNT_REASONS = new Set([
  'IN_USE_BY_ACCOUNT',
  'CONSUMER_UNREADABLE',
  'USAGE_REPORT_NOT_READY',
  'USAGE_REPORT_FAILED',
]);

export function renderOrganizationReport(
  result: LocalRunResult,
  targets: readonly TargetRunSummary[],
  items: readonly LedgerItem[],
  options: { readonly width?: number | undefined },
): string {
  const { width } = options;
  const out: string[] = [];
  const byRun = new Map<string, LedgerItem[]>();
  for (const item of items) byRun.set(item.runId, [...(byRun.get(item.runId) ?? []), item]);
  const otherAccounts = (runId: string) =>
    (byRun.get(runId) ?? []).filter((i) => i.kind === 'IMAGE' && OTHER_ACCOUNT_REASONS.has(String(i.reason)));

  out.push(`Organization run over ${targets.length} targets (account × region):`);
  out.push(
    table(
      [
        'Account',
        'Region',
        'Status',
        'AMIs removed',
        'Snapshots deleted',
        'Kept for other accounts',
        'Failed',
      ],
      targets.map((t) => [
        t.accountId,
        t.region,
        t.status,
        t.deregistered,
        t.snapshotsDeleted,
        otherAccounts(t.runId).length,
        t.failed + (t.error ? 1 : 0),
      ]),
      { width },
    ),
  );
  const kept = targets.flatMap((t) => otherAccounts(t.runId).map((i) => ({ t, i })));
  if (kept.length > 0) {
    out.push('Kept because another account uses them (or may):');
    const fitted = fitTable(
      [
        { head: 'Account' },
        { head: 'Region' },
        { head: 'AMI ID' },
        { head: 'Name', wrap: true, dropRank: 1 },
        { head: 'Why', wrap: true, maxWidth: WRAP_WIDTH, minWidth: 24 },
      ],
      kept.map(({ t, i }) => [t.accountId, t.region, i.id, i.name ?? '', `${i.reason}: ${i.detail ?? ''}`]),
      width,
    );
    out.push(fitted.text);
    if (fitted.dropped.length > 0) out.push(droppedNote(fitted, width).trimEnd());
  }
  const failed = targets.filter((t) => t.error);
  for (const t of failed) out.push(`${t.accountId} ${t.region}: ${t.status}: ${t.error}`);
  out.push(summaryLine(result));
  return `${prose(out.join('\n'), width)}\n`;
}
