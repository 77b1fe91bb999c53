/**
 * The approval page's HTML: a plan page and message pages, every value escaped. No scripts,
 * no external resources; the handler (`approval-page.ts`) verifies everything it passes here.
 * The page is bounded at any plan size: totals per target, group and keep reason, and one page of
 * `PAGE_ROWS` rows (`core/plan-view.ts`); the approval always covers the whole plan.
 */

import type { DeletionPreview } from '../core/deletion-set.ts';
import { PAGE_ROWS, type PlanView, pageRows } from '../core/plan-view.ts';
import type { TargetSummary } from '../core/summary.ts';
import { escapeHtml, htmlDocument, plural, table, usd } from './html.ts';
import { idList, keptText, REASONS, renderRows, targetName } from './plan-rows.ts';

export { escapeHtml, renderMessage } from './html.ts';

/** Targets listed in the overview table; each target is also headed, with its totals, in the rows. */
export const TARGETS_SHOWN = 100;
/** Kept-because-shared snapshots listed in the overview; each is also marked in its AMI's row. */
export const KEPT_SHARED_SHOWN = 50;

/** What the page needs to render a plan; all of it verified by the handler first. */
export interface PlanPageModel {
  readonly view: PlanView;
  /** 1-based, within `1..view.pageCount` (the handler checks). */
  readonly page: number;
  readonly runId: string;
  readonly expiresAt: string;
  /** `r` is the approver of a personal link (named approvers only). */
  readonly hidden: Readonly<Record<'a' | 'e' | 's' | 'planHash' | 'formToken', string> & { r?: string }>;
  readonly maxApproverLength: number;
  /** Named approvers: the "approvals so far" section (`approvals-so-far.ts`), shown above the form. */
  readonly approvalsSoFar?: string;
  /** Recycle Bin retention is on: when the saving starts (issue 10 §1; `savingDelayText`). */
  readonly savingDelay?: string;
}

/** The totals: exactly what pressing Approve deletes, and what it keeps. */
function renderTotals(preview: DeletionPreview, kept: number): string[] {
  const p = preview;
  const deferred = p.deferredImages + p.deferredOrphans;
  return [
    '<h2>What approving deletes</h2>',
    '<ul>',
    `<li>${plural(p.images, 'AMI')} to deregister</li>`,
    `<li>${plural(p.snapshots, 'snapshot')} to delete (${escapeHtml(p.sizeGiB)} GiB): ${plural(
      p.imageSnapshots,
      'snapshot',
    )} of these AMIs (${escapeHtml(p.imageSnapshotsGiB)} GiB) and ${plural(p.orphanSnapshots, 'orphan snapshot')} (${escapeHtml(
      p.orphanSizeGiB,
    )} GiB)</li>`,
    `<li>${plural(p.keptSharedSnapshots.length, 'snapshot')} of these AMIs kept because another AMI uses ${
      p.keptSharedSnapshots.length === 1 ? 'it' : 'them'
    }</li>`,
    `<li>Estimated saving: at most ${escapeHtml(usd(p.estimatedMonthlySavingUsd))} a month (an upper bound: snapshots are incremental, so deleting one can free less than its size)</li>`,
    `<li>${plural(kept, 'AMI')} kept</li>`,
    '</ul>',
    deferred > 0
      ? `<p class="notice">${escapeHtml(deferred)} more exceed the per-run deletion limit; they are marked "Deferred" and are left for a later run.</p>`
      : '',
  ];
}

function targetRow(t: Omit<TargetSummary, 'target'>, head: string): string {
  const num = (n: number | string) => `<td class="num">${escapeHtml(n)}</td>`;
  return `<tr>${head}${num(t.images)}${num(t.snapshots)}${num(t.sizeGiB)}${num(usd(t.estimatedMonthlySavingUsd))}${num(
    t.deferred,
  )}<td>${escapeHtml(keptText(t.kept, t.keptByReason))}</td></tr>`;
}

/** Totals per account and region, and in all. */
function renderTargets(view: PlanView): string {
  const { targets, total } = view.summary;
  const rows = targets
    .slice(0, TARGETS_SHOWN)
    .map((t) =>
      targetRow(
        t,
        `<td><code>${escapeHtml(t.target.accountId ?? 'this account')}</code></td><td>${escapeHtml(t.target.region)}</td>`,
      ),
    );
  const more = targets.length - rows.length;
  return [
    '<section>',
    '<h2>By account and region</h2>',
    table(
      `What approving deletes, by account and region (${targets.length})`,
      [
        'Account',
        'Region',
        'AMIs to delete',
        'Snapshots to delete',
        'GiB',
        'Est. $ a month',
        'Deferred',
        'Kept',
      ],
      rows,
      targetRow(total, '<th scope="row" colspan="2">All</th>'),
    ),
    more > 0
      ? `<p>${plural(more, 'more target')} ${more === 1 ? 'is' : 'are'} not listed here; each is headed with its totals in the plan's pages below.</p>`
      : '',
    '</section>',
  ].join('\n');
}

function renderKeptByReason(view: PlanView): string {
  const byReason = view.summary.total.keptByReason;
  const rows = (Object.keys(REASONS) as (keyof typeof REASONS)[])
    .filter((r) => (byReason[r] ?? 0) > 0)
    .map((r) => `<tr><td>${escapeHtml(REASONS[r])}</td><td class="num">${escapeHtml(byReason[r])}</td></tr>`);
  if (rows.length === 0) return '';
  return [
    '<section>',
    '<h2>AMIs kept, by reason</h2>',
    table(`AMIs kept (${view.summary.total.kept})`, ['Reason', 'AMIs'], rows),
    '</section>',
  ].join('\n');
}

function renderKeptShared(preview: DeletionPreview): string {
  const all = preview.keptSharedSnapshots;
  if (all.length === 0) return '';
  const rows = all
    .slice(0, KEPT_SHARED_SHOWN)
    .map((s) => `<tr><td><code>${escapeHtml(s.snapshotId)}</code></td><td>${idList(s.sharedWith)}</td></tr>`);
  return [
    '<section>',
    '<h2>Snapshots kept</h2>',
    table(
      `Snapshots kept because another AMI uses them (${all.length})`,
      ['Snapshot ID', 'Also used by'],
      rows,
    ),
    all.length > rows.length
      ? `<p>${plural(all.length - rows.length, 'more snapshot')} like these are marked "kept" in their AMI's row.</p>`
      : '',
    '</section>',
  ].join('\n');
}

/** Links to the other pages, on the same signed link (only `page` changes). */
function renderPager(view: PlanView, page: number, link: string): string {
  if (view.pageCount <= 1) return '';
  const to = (n: number, label: string) =>
    n === page || n < 1 || n > view.pageCount
      ? ''
      : `<a href="${escapeHtml(`${link}&page=${n}`)}#rows" rel="noreferrer">${escapeHtml(label)}</a>`;
  return [
    '<nav class="pages" aria-label="Pages of the plan">',
    to(1, 'First page'),
    to(page - 1, 'Previous page'),
    `<span>Page ${escapeHtml(page)} of ${escapeHtml(view.pageCount)}</span>`,
    to(page + 1, 'Next page'),
    to(view.pageCount, 'Last page'),
    '</nav>',
  ]
    .filter((line) => line !== '')
    .join('\n');
}

export function renderPlanPage(model: PlanPageModel): string {
  const { view, page, hidden } = model;
  const { plan, preview, summary } = view;
  const linkParams: Record<string, string> = { a: hidden.a, e: hidden.e, s: hidden.s };
  if (hidden.r !== undefined) linkParams.r = hidden.r;
  const link = `?${new URLSearchParams(linkParams).toString()}`;
  const many = summary.targets.length > 1;
  const only = summary.targets[0]?.target;
  const where =
    many || !only
      ? `${plural(summary.total.accounts, 'account')} and ${plural(summary.total.regions, 'region')}`
      : escapeHtml(only.region);
  const rows = pageRows(view, page);
  const content = [
    `<h1>Approve AMI cleanup in ${where}?</h1>`,
    '<p>Review the plan below. Nothing is deleted until you press <strong>Approve</strong>.</p>',
    // The whole plan is one decision, whichever page it is taken from.
    `<p class="notice">Approving approves the whole plan: ${plural(preview.images, 'AMI')} and ${plural(
      preview.orphanSnapshots,
      'orphan snapshot',
    )} in ${plural(summary.targets.length, 'target')}, listed on ${plural(view.pageCount, 'page')} of up to ${escapeHtml(
      PAGE_ROWS,
    )} rows. Every page is part of it, not only the one shown.</p>`,
    '<p><a href="#decision">Go to the decision</a> at the end of the page.</p>',
    '<dl>',
    ...(many || !only
      ? [`<dt>Targets</dt><dd>${plural(summary.targets.length, 'account and region')}</dd>`]
      : [
          ...(only.accountId ? [`<dt>Account</dt><dd><code>${escapeHtml(only.accountId)}</code></dd>`] : []),
          `<dt>Region</dt><dd>${escapeHtml(only.region)}</dd>`,
        ]),
    `<dt>Plan hash</dt><dd><code>${escapeHtml(plan.planHash)}</code></dd>`,
    `<dt>Planned at</dt><dd>${escapeHtml(plan.createdAt)}</dd>`,
    `<dt>Run</dt><dd><code>${escapeHtml(model.runId)}</code></dd>`,
    `<dt>Approval expires</dt><dd>${escapeHtml(model.expiresAt)}</dd>`,
    '</dl>',
    ...renderTotals(preview, summary.total.kept),
    // Recycle Bin retention (kept apart from the totals: retained snapshots are billed until it ends).
    model.savingDelay === undefined ? '' : `<p class="notice">${escapeHtml(model.savingDelay)}</p>`,
    renderTargets(view),
    renderKeptByReason(view),
    renderKeptShared(preview),
    '<section>',
    `<h2 id="rows">The plan, page ${escapeHtml(page)} of ${escapeHtml(view.pageCount)}</h2>`,
    renderPager(view, page, link),
    rows.length > 0 ? renderRows(rows, { manyTargets: many }) : '<p>No AMIs or snapshots in this plan.</p>',
    preview.orphanSnapshots + preview.deferredOrphans === 0 ? '<p>No orphan snapshots in this plan.</p>' : '',
    renderPager(view, page, link),
    '</section>',
    model.approvalsSoFar ?? '',
    `<form id="decision" method="post" action="${escapeHtml(link)}">`,
    '<h2>Your decision</h2>',
    `<p>This decides the whole plan (hash <code>${escapeHtml(plan.planHash)}</code>), every page of it.</p>`,
    ...Object.entries(hidden).map(
      ([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`,
    ),
    '<label for="approver">Your name</label>',
    `<input type="text" id="approver" name="approver" required maxlength="${model.maxApproverLength}" autocomplete="name">`,
    '<div class="actions">',
    '<button type="submit" class="approve" name="decision" value="APPROVE">Approve</button>',
    '<button type="submit" class="reject" name="decision" value="REJECT">Reject</button>',
    '</div>',
    '</form>',
  ];
  return htmlDocument(
    `Approve AMI cleanup in ${many || !only ? `${summary.targets.length} targets` : only.region}`,
    content.filter((line) => line !== '').join('\n'),
  );
}

export { targetName };
