/**
 * The approval email: plain text, bounded at any plan size. Totals per account and region (the
 * first `EMAIL_TARGETS` targets) and in all, the groups with the most AMIs to delete (at most
 * `EMAIL_GROUPS`), the link and what it does. Tag text goes through `inertText`; the approval link
 * is the only link.
 */
import type { Plan, PlanTargetRef } from '../core/model.ts';
import { type PlanView, planView } from '../core/plan-view.ts';
import type { GroupSummary } from '../core/summary.ts';
import { inertText, pluralText as plural } from './plain-text.ts';

export interface ApprovalEmail {
  /** At most 100 ASCII characters on one line (SNS's limits for email subjects). */
  readonly subject: string;
  readonly message: string;
}

/** Targets listed one a line; the page lists every one. */
export const EMAIL_TARGETS = 20;
/** Groups listed; the page lists every one. */
export const EMAIL_GROUPS = 10;
const SUBJECT_MAX = 100;

const gib = (n: number): string => `${Number.isInteger(n) ? n : n.toFixed(1)}`;
const usd = (n: number): string => n.toFixed(2);

/** Columns padded to their widest cell: the first `left` left-aligned, the rest right-aligned. */
function columns(header: readonly string[], body: readonly (readonly string[])[], foot?: readonly string[]) {
  const all = [header, ...body, ...(foot ? [foot] : [])];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const textColumns = header.filter((h) => ['Group', 'Account', 'Region'].includes(h)).length;
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i < textColumns ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...body.map(line), ...(foot ? [rule, line(foot)] : [])];
}

/** SNS refuses email subjects over 100 characters, with line breaks, or with non-ASCII text. */
function oneLine(text: string, max: number): string {
  const flat = text.replace(/[\r\n\t]+/g, ' ').replace(/[^\x20-\x7e]/g, '?');
  return flat.length <= max ? flat : `${flat.slice(0, max - 3)}...`;
}

const account = (t: PlanTargetRef): string => t.accountId ?? 'this account';

/** The groups with the most AMIs to delete (ties: plan order), at most `EMAIL_GROUPS`. */
function topGroups(view: PlanView): GroupSummary[] {
  const groups: GroupSummary[] = [];
  for (const row of view.rows) if (row.kind === 'group' && row.group.toDelete > 0) groups.push(row.group);
  return groups
    .map((g, i) => ({ g, i }))
    .sort((a, b) => b.g.toDelete - a.g.toDelete || a.i - b.i)
    .slice(0, EMAIL_GROUPS)
    .map(({ g }) => g);
}

export function renderApprovalEmail(
  plan: Plan,
  link: string,
  expiresAt: Date,
  options: {
    readonly runId?: string;
    readonly pricePerGibMonth?: number;
    /** Named approvers: whose personal link this email carries, and how many must approve. */
    readonly approver?: string;
    readonly requiredApprovals?: number;
  } = {},
): ApprovalEmail {
  const view = planView(plan, options.pricePerGibMonth);
  const { preview, summary } = view;
  const { total } = summary;
  const many = summary.targets.length > 1;
  const only = summary.targets[0]?.target;
  const where =
    many || !only
      ? `${plural(summary.targets.length, 'target')} (${plural(total.accounts, 'account')}, ${plural(total.regions, 'region')})`
      : only.region;
  const what =
    preview.orphanSnapshots > 0
      ? `${plural(preview.images, 'AMI')} and ${plural(preview.orphanSnapshots, 'orphan snapshot')}`
      : plural(preview.images, 'AMI');
  const subject = oneLine(`ami-cleaner: approve deleting ${what} in ${where}`, SUBJECT_MAX);

  const targetCells = (t: (typeof summary.targets)[number]) => [
    account(t.target),
    t.target.region,
    String(t.images),
    String(t.snapshots),
    gib(t.sizeGiB),
    usd(t.estimatedMonthlySavingUsd),
    String(t.deferred),
    String(t.kept),
  ];
  const shownTargets = summary.targets.slice(0, EMAIL_TARGETS);
  const targetTable = columns(
    ['Account', 'Region', 'AMIs', 'Snapshots', 'GiB', 'Est. $/month', 'Deferred', 'Kept'],
    shownTargets.map(targetCells),
    [
      'All',
      '',
      String(total.images),
      String(total.snapshots),
      gib(total.sizeGiB),
      usd(total.estimatedMonthlySavingUsd),
      String(total.deferred),
      String(total.kept),
    ],
  );
  const groups = topGroups(view);
  const groupCount = view.rows.filter((r) => r.kind === 'group' && r.group.toDelete > 0).length;
  const groupTable = columns(
    ['Group', ...(many ? ['Account', 'Region'] : []), 'AMIs to delete', 'Kept', 'GiB'],
    groups.map((g) => [
      inertText(g.name),
      ...(many ? [account(g.target), g.target.region] : []),
      String(g.toDelete),
      String(g.kept),
      gib(g.sizeGiB),
    ]),
  );
  // Sharing checks the cap skipped are deferred too, as the ledger records them.
  const deferred = total.deferred + (total.keptByReason.MAX_DELETIONS_PER_RUN ?? 0);

  const lines = [
    `An ami-cleaner run wants to delete ${what} in ${where}${!many && only?.accountId ? ` (account ${only.accountId})` : ''}.`,
    ...(options.runId ? [`Run: ${options.runId}`] : []),
    `Plan hash: ${plan.planHash}`,
    '',
    'What approving deletes, by account and region:',
    ...targetTable,
    ...(summary.targets.length > shownTargets.length
      ? [
          `(${plural(summary.targets.length - shownTargets.length, 'more target')}: the review page lists every one.)`,
        ]
      : []),
    '',
    groups.length > 0
      ? `Groups with the most AMIs to delete (${groups.length} of ${plural(groupCount, 'group')}; the review page lists every one):`
      : 'No AMIs to delete.',
    ...(groups.length > 0 ? groupTable : []),
    '',
    `Snapshots to delete: ${preview.snapshots} (${gib(preview.sizeGiB)} GiB): ${preview.imageSnapshots} of these AMIs and ${plural(preview.orphanSnapshots, 'orphan snapshot')} (${gib(preview.orphanSizeGiB)} GiB)`,
    `Estimated saving: at most $${usd(preview.estimatedMonthlySavingUsd)} a month (snapshots are incremental, so it can be less)`,
    ...(deferred > 0
      ? [
          `${plural(deferred, 'item')} ${deferred === 1 ? 'exceeds' : 'exceed'} the per-run deletion limit and will be left for a later run.`,
        ]
      : []),
    '',
    ...(options.approver
      ? [
          `This link is yours alone: a decision made with it is recorded as ${options.approver}.`,
          `The plan is deleted only after ${plural(options.requiredApprovals ?? 1, 'different approver')} approve it; one rejection ends the run.`,
          '',
        ]
      : []),
    'Review the plan, then approve or reject it:',
    link,
    '',
    `The link opens the review page (${plural(view.pageCount, 'page')}). Approving there approves the whole plan: every target, every page.`,
    'Nothing is deleted until you press Approve on that page.',
    `The link expires at ${expiresAt.toISOString()} (UTC). If nobody approves by then, nothing is deleted.`,
    'Do not forward this email: anyone with the link can approve.',
  ];
  return { subject, message: `${lines.join('\n')}\n` };
}
