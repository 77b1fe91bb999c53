/**
 * The plan as the approval page shows it, bounded at any size: totals per target, group and keep
 * reason (a fixed amount of text per target and group), and the rows that list what is deleted
 * (a group's header, each candidate AMI, each orphan snapshot) cut into pages of `PAGE_ROWS`.
 * Kept AMIs are counted by reason, never listed one by one: they are most of a large account.
 */
import type { DeletionPreview } from './deletion-set.ts';
import type { OrphanSnapshot, Plan, PlanCandidate, PlanTargetRef } from './model.ts';
import { admitByTarget, combinePreviews, planTargetSlices, previewByTarget } from './plan-targets.ts';
import { type GroupSummary, type PlanSummary, summariseGroup, summarisePlan } from './summary.ts';

/** Rows a page lists. 200 candidate rows are about 100 KiB of HTML; a Function URL returns at most 6 MB. */
export const PAGE_ROWS = 200;

export type PlanRow =
  | { readonly kind: 'group'; readonly target: PlanTargetRef; readonly group: GroupSummary }
  | {
      readonly kind: 'candidate';
      readonly target: PlanTargetRef;
      readonly group: GroupSummary;
      readonly candidate: PlanCandidate;
      readonly deferred: boolean;
    }
  | {
      readonly kind: 'orphan';
      readonly target: PlanTargetRef;
      readonly orphan: OrphanSnapshot;
      readonly deferred: boolean;
      /** Orphan snapshots of this target in all. */
      readonly ofTarget: number;
    };

export interface PlanView {
  readonly plan: Plan;
  /** What approving the whole plan deletes, every target added up. */
  readonly preview: DeletionPreview;
  readonly summary: PlanSummary;
  /** Every listed row, in target order, then group order (each group's header first), then orphans. */
  readonly rows: readonly PlanRow[];
  /** At least 1 (an empty plan still has a page). */
  readonly pageCount: number;
}

export function planView(plan: Plan, pricePerGibMonth?: number): PlanView {
  const slices = planTargetSlices(plan);
  const admissions = admitByTarget(plan, slices);
  const previews = previewByTarget(plan, pricePerGibMonth, slices);
  const rows: PlanRow[] = [];
  const inputs = slices.map((slice, i) => {
    const admission = admissions[i];
    const deferredImages = new Set(admission?.deferredCandidates.map((c) => c.imageId));
    const deferredOrphans = new Set(admission?.deferredOrphans.map((o) => o.snapshotId));
    const { target } = slice;
    for (const g of slice.groups) {
      const group = summariseGroup(target, g, deferredImages);
      rows.push({ kind: 'group', target, group });
      for (const candidate of g.candidates)
        rows.push({
          kind: 'candidate',
          target,
          group,
          candidate,
          deferred: deferredImages.has(candidate.imageId),
        });
    }
    for (const orphan of slice.orphanSnapshots)
      rows.push({
        kind: 'orphan',
        target,
        orphan,
        deferred: deferredOrphans.has(orphan.snapshotId),
        ofTarget: slice.orphanSnapshots.length,
      });
    const preview = previews[i]?.preview;
    if (!preview) throw new RangeError('a target has no preview');
    return { target, groups: slice.groups, preview };
  });
  return {
    plan,
    preview: combinePreviews(
      inputs.map((x) => x.preview),
      pricePerGibMonth,
    ),
    summary: summarisePlan(inputs, pricePerGibMonth),
    rows,
    pageCount: Math.max(1, Math.ceil(rows.length / PAGE_ROWS)),
  };
}

/** The rows of page `page` (1-based); the caller checks `1 <= page <= view.pageCount`. */
export function pageRows(view: PlanView, page: number): readonly PlanRow[] {
  return view.rows.slice((page - 1) * PAGE_ROWS, page * PAGE_ROWS);
}
