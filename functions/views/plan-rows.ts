/**
 * One page of the plan's rows (`core/plan-view.ts`): target headings, group headings with their
 * counts, the candidate AMIs and the orphan snapshots. A group or target that began on an earlier
 * page is headed again, "continued", so every page reads on its own.
 */
import { isKeptShared } from '../core/deletion-set.ts';
import type { KeepReason, PlannedSnapshot, PlanTargetRef } from '../core/model.ts';
import { targetRefKey } from '../core/plan-targets.ts';
import type { PlanRow } from '../core/plan-view.ts';
import type { GroupSummary, KeptByReason } from '../core/summary.ts';
import { escapeHtml, plural, table } from './html.ts';

export const REASONS: Readonly<Record<KeepReason, string>> = {
  NO_MAPPING: 'Lacks the mapping (excluded group)',
  EXCLUDED_MAPPING_VALUE: 'Excluded mapping value',
  IN_USE: 'In use',
  KEEP_PREVIOUS: 'Among the newest kept',
  MIN_AGE: 'Younger than the minimum age',
  OPT_OUT_TAG: 'Carries the opt-out tag',
  DEREGISTRATION_PROTECTION: 'Deregistration protection',
  SHARED: 'Public or shared with other accounts',
  NOT_AVAILABLE: 'Not available',
  NOT_REQUESTED: 'Not among the requested AMI IDs',
  MAX_DELETIONS_PER_RUN: 'Deferred to a later run',
  AWS_REPORTS_IN_USE: 'In use according to AWS (not found by our inventory)',
  IN_USE_BY_ACCOUNT: 'In use by another account',
  USAGE_REPORT_NOT_READY: 'Shared: usage report not ready in time',
  USAGE_REPORT_FAILED: 'Shared: usage report failed',
  CONSUMER_UNREADABLE: 'Shared: a consumer account could not be read',
};

/** At most this many AMI ids are named beside a kept snapshot; the rest are counted. */
const SHARED_WITH_SHOWN = 5;

export function targetName(target: PlanTargetRef): string {
  return target.accountId ? `account ${target.accountId} in ${target.region}` : target.region;
}

/** "3 (Among the newest kept: 2, In use: 1)", in the core's reason order. */
export function keptText(kept: number, byReason: KeptByReason): string {
  const parts = (Object.keys(REASONS) as KeepReason[])
    .filter((r) => (byReason[r] ?? 0) > 0)
    .map((r) => `${REASONS[r]}: ${byReason[r]}`);
  return parts.length > 0 ? `${kept} (${parts.join(', ')})` : String(kept);
}

export function idList(ids: readonly string[], shown: number = SHARED_WITH_SHOWN): string {
  const named = ids.slice(0, shown).map((id) => `<code>${escapeHtml(id)}</code>`);
  const more = ids.length - named.length;
  return more > 0 ? `${named.join(', ')} and ${escapeHtml(more)} more` : named.join(', ');
}

function snapshotCell(snapshots: readonly PlannedSnapshot[]): string {
  return snapshots
    .map((s) =>
      isKeptShared(s)
        ? `<code>${escapeHtml(s.snapshotId)}</code> (kept: also used by ${idList(s.sharedWith ?? [])})`
        : `<code>${escapeHtml(s.snapshotId)}</code>`,
    )
    .join('<br>');
}

const action = (deferred: boolean): string => (deferred ? 'Deferred to a later run' : 'Delete');

function groupHeading(group: GroupSummary, continued: boolean): string {
  const counts = [
    `${plural(group.toDelete, 'AMI')} to delete (${escapeHtml(group.sizeGiB)} GiB freed)`,
    ...(group.deferred > 0 ? [`${escapeHtml(group.deferred)} deferred to a later run`] : []),
    `kept: ${escapeHtml(keptText(group.kept, group.keptByReason))}`,
  ];
  return `<h4>Group ${escapeHtml(group.name)}${continued ? ' (continued)' : ''}</h4>\n<p>${counts.join('; ')}</p>${
    group.toDelete + group.deferred === 0 ? '\n<p>No AMIs to delete in this group.</p>' : ''
  }`;
}

/** The page's rows as HTML; `manyTargets` adds the target to captions (a group name can repeat across targets). */
export function renderRows(rows: readonly PlanRow[], options: { readonly manyTargets: boolean }): string {
  const out: string[] = [];
  let target: string | undefined;
  let open: { kind: 'candidate' | 'orphan'; key: string; caption: string; rows: string[] } | undefined;
  const where = (t: PlanTargetRef) => (options.manyTargets ? ` in ${targetName(t)}` : '');
  const flush = () => {
    if (!open) return;
    out.push(
      open.kind === 'candidate'
        ? table(
            open.caption,
            ['AMI ID', 'Name', 'Creation Date', 'Snapshots', 'GiB freed', 'This run'],
            open.rows,
          )
        : table(
            open.caption,
            ['Snapshot ID', 'Former AMI', 'Size GiB', 'Description', 'This run'],
            open.rows,
          ),
    );
    open = undefined;
  };
  rows.forEach((row, index) => {
    const key = targetRefKey(row.target);
    if (key !== target) {
      flush();
      const continued = index === 0 && row.kind !== 'group';
      out.push(`<h3>In ${escapeHtml(targetName(row.target))}${continued ? ' (continued)' : ''}</h3>`);
      target = key;
    }
    if (row.kind === 'group') {
      flush();
      out.push(groupHeading(row.group, false));
      return;
    }
    if (row.kind === 'candidate') {
      const groupKey = `${key}\u0000${row.group.name}`;
      if (open?.key !== groupKey) {
        flush();
        // The group's header row is on an earlier page.
        if (index === 0) out.push(groupHeading(row.group, true));
        const count = row.group.toDelete + row.group.deferred;
        open = {
          kind: 'candidate',
          key: groupKey,
          caption: `AMIs to delete in ${row.group.name}${where(row.target)} (${count})${index === 0 ? ', continued' : ''}`,
          rows: [],
        };
      }
      const c = row.candidate;
      // What deleting this AMI frees: its snapshots no other AMI maps.
      const size = c.snapshots.filter((s) => !isKeptShared(s)).reduce((sum, s) => sum + s.sizeGiB, 0);
      open.rows.push(
        `<tr><td><code>${escapeHtml(c.imageId)}</code></td><td>${escapeHtml(c.name)}</td><td>${escapeHtml(
          c.creationDate,
        )}</td><td>${snapshotCell(c.snapshots)}</td><td class="num">${escapeHtml(size)}</td><td>${action(row.deferred)}</td></tr>`,
      );
      return;
    }
    const orphanKey = `${key}\u0000orphans`;
    if (open?.key !== orphanKey) {
      flush();
      open = {
        kind: 'orphan',
        key: orphanKey,
        caption: `Orphan snapshots to delete${where(row.target)} (${row.ofTarget})${index === 0 ? ', continued' : ''}`,
        rows: [],
      };
    }
    const o = row.orphan;
    open.rows.push(
      `<tr><td><code>${escapeHtml(o.snapshotId)}</code></td><td><code>${escapeHtml(o.imageId)}</code></td><td class="num">${escapeHtml(
        o.sizeGiB,
      )}</td><td>${escapeHtml(o.description)}</td><td>${action(row.deferred)}</td></tr>`,
    );
  });
  flush();
  return out.join('\n');
}
