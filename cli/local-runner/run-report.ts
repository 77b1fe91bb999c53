/**
 * The end-of-run report, in the original tool's tables: what was removed per group, what was
 * kept and why, and the run's summary. Built from the ledger, which is the record of truth.
 */

import type { LedgerItem } from '../../functions/adapters/ledger/index.ts';
import type { KeepReason } from '../../functions/core/model.ts';
import { savingDelayText } from '../../functions/core/recycle-bin.ts';
import { describeReason, droppedNote, fitTable, prose, table, WRAP_WIDTH } from '../report.ts';
import type { LocalRunResult } from './run-workflow.ts';

export function renderRunReport(
  result: LocalRunResult,
  items: readonly LedgerItem[],
  options: { readonly fullReport: boolean; readonly width?: number | undefined },
): string {
  const width = options.width;
  const out: string[] = [];
  const images = items.filter((i) => i.kind === 'IMAGE');
  const removed = images.filter((i) => i.status === 'DONE');
  const byGroup = groupBy(removed, (i) => i.group ?? '');

  if (options.fullReport) {
    for (const [group, groupItems] of byGroup) {
      out.push(group);
      out.push(
        table(
          ['AMI ID', 'AMI Name', 'Creation Date'],
          groupItems.map((i) => [i.id, i.name ?? '', i.creationDate ?? '']),
          { width },
        ),
      );
    }
  }
  if (removed.length > 0) {
    out.push('AMIs removed:');
    out.push(
      table(
        ['Group name', 'removed'],
        [...byGroup].map(([group, groupItems]) => [group, groupItems.length]),
        { width },
      ),
    );
  }
  const orphans = items.filter((i) => i.kind === 'SNAPSHOT' && i.status === 'DONE');
  if (orphans.length > 0) {
    out.push('Orphan snapshots removed:');
    out.push(
      table(
        ['Snapshot ID', 'AMI ID (gone)', 'Size GiB'],
        orphans.map((o) => [o.id, o.sourceImageId ?? '', o.sizeGiB]),
        { width },
      ),
    );
  }

  const notRemoved = items
    .filter((i) => i.status !== 'DONE')
    .sort(
      (a, b) =>
        compare(a.group ?? '~', b.group ?? '~') || compare(b.creationDate ?? '', a.creationDate ?? ''),
    );
  if (notRemoved.length > 0) {
    out.push('Not removed:');
    const fitted = fitTable(
      [
        { head: 'Group name', dropRank: 2 },
        { head: 'ID' },
        { head: 'Name', wrap: true, dropRank: 1 },
        { head: 'Status' },
        { head: 'Why', wrap: true, maxWidth: WRAP_WIDTH, minWidth: 24 },
      ],
      notRemoved.map((i) => [i.group ?? '(orphan snapshot)', i.id, i.name ?? '', i.status, why(i)]),
      width,
    );
    out.push(fitted.text);
    if (fitted.dropped.length > 0) out.push(droppedNote(fitted, width).trimEnd());
  }

  out.push(summaryLine(result));
  return `${prose(out.join('\n'), width)}\n`;
}

function why(item: LedgerItem): string {
  if (item.lastError) return item.lastError;
  if (item.reason === 'MAX_DELETIONS_PER_RUN') return 'over maxDeletionsPerRun: left for the next run';
  if (item.reason) return describeReason(item.reason as KeepReason, item.detail);
  return item.detail ?? '';
}

/** The run's last lines: its status, counts and saving (an organization run's are the sums over its targets). */
export function summaryLine(result: LocalRunResult): string {
  if (result.status === 'FAILED')
    return `Run ${result.executionName}: FAILED (${result.error?.error}): nothing was deleted after the failure`;
  const s = result.output;
  if (!s || !('candidates' in s)) return `Run ${result.executionName}: ${s?.status ?? 'unknown'}`;
  return [
    `Run ${s.runId}: ${s.status}${s.approver ? `, approved by ${s.approver}` : ''}` +
      (s.failedTargets ? `, ${s.failedTargets} target(s) did not finish` : ''),
    `AMIs deregistered: ${s.deregistered}   snapshots deleted: ${s.snapshotsDeleted}   ` +
      `skipped (in use): ${s.skippedInUse}   failed: ${s.failed}   deferred: ${s.deferred}`,
    `GiB freed: ${s.gibFreed}   estimated monthly saving: $${s.estimatedMonthlySavingUsd.toFixed(2)}`,
    ...(s.recycleBin
      ? [
          `${savingDelayText(s.recycleBin, new Date(s.recycleBin.savingStartsAt))}`,
          `Undo: amicleaner restore --run ${s.runId}`,
        ]
      : []),
  ].join('\n');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function groupBy<T>(values: readonly T[], key: (value: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const value of values) {
    const k = key(value);
    groups.set(k, [...(groups.get(k) ?? []), value]);
  }
  return new Map([...groups].sort(([a], [b]) => compare(a, b)));
}
