/**
 * The approval page's HTML: a plan page and message pages, every value escaped. No scripts,
 * no external resources; the handler (`approval-page.ts`) verifies everything it passes here.
 */

import { type DeletionPreview, isKeptShared } from '../core/deletion-set.ts';
import type { KeepReason, Plan, PlanGroup, PlannedSnapshot } from '../core/model.ts';
import { visible } from '../core/visible-text.ts';

/** HTML-escapes a value, after making its control and bidi characters visible (tag text is hostile). */
export function escapeHtml(value: unknown): string {
  return visible(String(value))
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;line-height:1.5;margin:0;color:#1b1b1b;background:#fff}
main{max-width:72rem;margin:0 auto;padding:1rem 1.5rem 3rem}
.scroll{overflow-x:auto}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem}h3{font-size:1.05rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border:1px solid #8a8a8a;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#eef0f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
code{font-family:ui-monospace,Menlo,Consolas,monospace;overflow-wrap:anywhere}td code{overflow-wrap:normal;white-space:nowrap}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0}
.notice{border-left:4px solid #8a5a00;background:#fff8e5;padding:.5rem 1rem}
form{margin-top:2rem;padding:1rem;border:2px solid #1b1b1b;max-width:32rem}
label{display:block;font-weight:600;margin-bottom:.25rem}
input[type=text]{font-size:1rem;padding:.4rem;width:100%;box-sizing:border-box;border:2px solid #555}
.actions{display:flex;gap:1rem;margin-top:1rem}
button{font-size:1rem;padding:.5rem 1.25rem;border:2px solid #1b1b1b;cursor:pointer}
button.approve{background:#0b5d1e;color:#fff}button.reject{background:#fff;color:#8b0000;border-color:#8b0000}
:focus-visible{outline:3px solid #1a5fb4;outline-offset:2px}
`;

function htmlDocument(title: string, content: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${escapeHtml(title)} · ami-cleaner</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${content}
</main>
</body>
</html>
`;
}

export function renderMessage(title: string, message: string): string {
  return htmlDocument(title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>`);
}

const REASONS: Readonly<Record<KeepReason, string>> = {
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

/** What the page needs to render a plan; all of it verified by the handler first. */
export interface PlanPageModel {
  readonly plan: Plan;
  readonly runId: string;
  readonly expiresAt: string;
  /** What approving deletes, under the run's cap (the core's `previewDeletion`). */
  readonly preview: DeletionPreview;
  /** Candidate AMI ids and orphan snapshot ids beyond the cap, left for a later run. */
  readonly deferred: ReadonlySet<string>;
  readonly hidden: Readonly<Record<'a' | 'e' | 's' | 'planHash' | 'formToken', string>>;
  readonly maxApproverLength: number;
}

const usd = (n: number): string => `$${n.toFixed(2)}`;

function snapshotCell(snapshots: readonly PlannedSnapshot[]): string {
  return snapshots
    .map((s) =>
      isKeptShared(s)
        ? `<code>${escapeHtml(s.snapshotId)}</code> (kept: also used by ${(s.sharedWith ?? [])
            .map((id) => `<code>${escapeHtml(id)}</code>`)
            .join(', ')})`
        : `<code>${escapeHtml(s.snapshotId)}</code>`,
    )
    .join('<br>');
}

function renderGroup(group: PlanGroup, deferred: ReadonlySet<string>): string {
  const parts = [`<section>\n<h2>Group ${escapeHtml(group.name)}</h2>`];
  if (group.candidates.length > 0) {
    const rows = group.candidates.map((c) => {
      // What deleting this AMI frees: its snapshots no other AMI maps.
      const size = c.snapshots.filter((s) => !isKeptShared(s)).reduce((sum, s) => sum + s.sizeGiB, 0);
      const action = deferred.has(c.imageId) ? 'Deferred to a later run' : 'Delete';
      return `<tr><td><code>${escapeHtml(c.imageId)}</code></td><td>${escapeHtml(c.name)}</td><td>${escapeHtml(
        c.creationDate,
      )}</td><td>${snapshotCell(c.snapshots)}</td><td class="num">${escapeHtml(size)}</td><td>${action}</td></tr>`;
    });
    parts.push(
      table(
        `AMIs to delete in ${group.name} (${group.candidates.length})`,
        ['AMI ID', 'Name', 'Creation Date', 'Snapshots', 'GiB freed', 'This run'],
        rows,
      ),
    );
  } else {
    parts.push('<p>No AMIs to delete in this group.</p>');
  }
  if (group.kept.length > 0) {
    const rows = group.kept.map(
      (k) =>
        `<tr><td><code>${escapeHtml(k.imageId)}</code></td><td>${escapeHtml(k.name)}</td><td>${escapeHtml(
          k.creationDate,
        )}</td><td>${escapeHtml(REASONS[k.reason] ?? k.reason)}${
          k.detail ? `: ${escapeHtml(k.detail)}` : ''
        }</td></tr>`,
    );
    parts.push(
      table(
        `AMIs kept in ${group.name} (${group.kept.length})`,
        ['AMI ID', 'Name', 'Creation Date', 'Reason'],
        rows,
      ),
    );
  }
  parts.push('</section>');
  return parts.join('\n');
}

function plural(n: number, word: string): string {
  return `${escapeHtml(n)} ${word}${n === 1 ? '' : 's'}`;
}

function table(caption: string, headings: readonly string[], rows: readonly string[]): string {
  const head = headings.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('');
  // The wrapper scrolls a wide table on a phone instead of the whole page.
  return `<div class="scroll">\n<table>\n<caption>${escapeHtml(caption)}</caption>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${rows.join(
    '\n',
  )}\n</tbody>\n</table>\n</div>`;
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

function renderKeptShared(preview: DeletionPreview): string {
  if (preview.keptSharedSnapshots.length === 0) return '';
  const rows = preview.keptSharedSnapshots.map(
    (s) =>
      `<tr><td><code>${escapeHtml(s.snapshotId)}</code></td><td>${s.sharedWith
        .map((id) => `<code>${escapeHtml(id)}</code>`)
        .join('<br>')}</td></tr>`,
  );
  return [
    '<section>',
    '<h2>Snapshots kept</h2>',
    table(
      `Snapshots kept because another AMI uses them (${rows.length})`,
      ['Snapshot ID', 'Also used by'],
      rows,
    ),
    '</section>',
  ].join('\n');
}

export function renderPlanPage(model: PlanPageModel): string {
  const { plan, preview, deferred, hidden } = model;
  const action = `?${new URLSearchParams({ a: hidden.a, e: hidden.e, s: hidden.s }).toString()}`;
  const orphanRows = plan.orphanSnapshots.map(
    (o) =>
      `<tr><td><code>${escapeHtml(o.snapshotId)}</code></td><td><code>${escapeHtml(o.imageId)}</code></td><td class="num">${escapeHtml(
        o.sizeGiB,
      )}</td><td>${escapeHtml(o.description)}</td><td>${deferred.has(o.snapshotId) ? 'Deferred to a later run' : 'Delete'}</td></tr>`,
  );
  const content = [
    `<h1>Approve AMI cleanup in ${escapeHtml(plan.region)}?</h1>`,
    '<p>Review the plan below. Nothing is deleted until you press <strong>Approve</strong>.</p>',
    // The plan can list hundreds of kept AMIs; the decision is one jump away.
    '<p><a href="#decision">Go to the decision</a> at the end of the plan.</p>',
    '<dl>',
    `<dt>Region</dt><dd>${escapeHtml(plan.region)}</dd>`,
    `<dt>Plan hash</dt><dd><code>${escapeHtml(plan.planHash)}</code></dd>`,
    `<dt>Planned at</dt><dd>${escapeHtml(plan.createdAt)}</dd>`,
    `<dt>Run</dt><dd><code>${escapeHtml(model.runId)}</code></dd>`,
    `<dt>Approval expires</dt><dd>${escapeHtml(model.expiresAt)}</dd>`,
    '</dl>',
    ...renderTotals(preview, plan.totals.kept),
    ...plan.groups.map((group) => renderGroup(group, deferred)),
    renderKeptShared(preview),
    '<section>',
    '<h2>Orphan snapshots</h2>',
    orphanRows.length > 0
      ? table(
          `Orphan snapshots to delete (${orphanRows.length})`,
          ['Snapshot ID', 'Former AMI', 'Size GiB', 'Description', 'This run'],
          orphanRows,
        )
      : '<p>No orphan snapshots in this plan.</p>',
    '</section>',
    `<form id="decision" method="post" action="${escapeHtml(action)}">`,
    '<h2>Your decision</h2>',
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
    `Approve AMI cleanup in ${plan.region}`,
    content.filter((line) => line !== '').join('\n'),
  );
}
