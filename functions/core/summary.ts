/** Sizes and an estimated saving, as shown by the CLI, the approval page and the run summary. */
import type { DeletionPreview } from './deletion-set.ts';
import type { KeepReason, PlanGroup, PlanTargetRef, PlanTotals } from './model.ts';

/** EBS snapshot standard tier, USD per GiB-month (us-east-1). */
export const DEFAULT_SNAPSHOT_PRICE_PER_GIB_MONTH = 0.05;

const toCents = (usd: number): number => Math.round((usd + Number.EPSILON) * 100) / 100;

/**
 * An upper bound: snapshots are incremental, so freeing N GiB of volume size saves at most
 * N GiB of snapshot storage.
 */
export function estimateMonthlySavingUsd(
  gib: number,
  pricePerGibMonth: number = DEFAULT_SNAPSHOT_PRICE_PER_GIB_MONTH,
): number {
  return toCents(gib * pricePerGibMonth);
}

export interface PlanSizeSummary {
  readonly images: number;
  readonly snapshots: number;
  readonly sizeGiB: number;
  readonly estimatedMonthlySavingUsd: number;
}

/** What deleting the whole plan would free: candidate AMIs' snapshots plus orphan snapshots. */
export function summarisePlanSizes(
  totals: PlanTotals,
  pricePerGibMonth: number = DEFAULT_SNAPSHOT_PRICE_PER_GIB_MONTH,
): PlanSizeSummary {
  const sizeGiB = totals.candidateSizeGiB + totals.orphanSizeGiB;
  return {
    images: totals.candidates,
    snapshots: totals.candidateSnapshots + totals.orphanSnapshots,
    sizeGiB,
    estimatedMonthlySavingUsd: estimateMonthlySavingUsd(sizeGiB, pricePerGibMonth),
  };
}

// ---------------------------------------------------------------------------------------------
// A plan summarised by target, group and keep reason (the approval page and the email)
// ---------------------------------------------------------------------------------------------

/** How many AMIs each reason keeps; reasons that keep none are absent. */
export type KeptByReason = Partial<Record<KeepReason, number>>;

/** What approving deletes in one target, and what it keeps there. */
export interface TargetSummary {
  readonly target: PlanTargetRef;
  /** AMIs to deregister, snapshots to delete (of those AMIs and orphans), their GiB and saving. */
  readonly images: number;
  readonly snapshots: number;
  readonly sizeGiB: number;
  readonly estimatedMonthlySavingUsd: number;
  readonly orphanSnapshots: number;
  /** Candidates and orphans beyond the cap, left for a later run. */
  readonly deferred: number;
  readonly kept: number;
  readonly keptByReason: KeptByReason;
  readonly groups: number;
}

export interface GroupSummary {
  readonly target: PlanTargetRef;
  readonly name: string;
  /** Candidates this run deletes, and those beyond the cap. */
  readonly toDelete: number;
  readonly deferred: number;
  /** GiB the admitted candidates free (snapshots another AMI maps are kept, so not counted). */
  readonly sizeGiB: number;
  readonly kept: number;
  readonly keptByReason: KeptByReason;
}

export interface PlanSummary {
  /** In target order. */
  readonly targets: readonly TargetSummary[];
  readonly total: Omit<TargetSummary, 'target'> & { readonly accounts: number; readonly regions: number };
}

interface SummaryInput {
  readonly target: PlanTargetRef;
  readonly groups: readonly PlanGroup[];
  readonly preview: DeletionPreview;
}

export function countByReason(kept: readonly { readonly reason: KeepReason }[]): KeptByReason {
  const counts: Partial<Record<KeepReason, number>> = {};
  for (const k of kept) counts[k.reason] = (counts[k.reason] ?? 0) + 1;
  return counts;
}

function addCounts(into: Partial<Record<KeepReason, number>>, from: KeptByReason): void {
  for (const [reason, n] of Object.entries(from) as [KeepReason, number][])
    into[reason] = (into[reason] ?? 0) + n;
}

export function summariseGroup(
  target: PlanTargetRef,
  group: PlanGroup,
  deferredIds: ReadonlySet<string>,
): GroupSummary {
  const admitted = group.candidates.filter((c) => !deferredIds.has(c.imageId));
  const freed = new Map<string, number>();
  for (const c of admitted)
    for (const s of c.snapshots) if (!(s.sharedWith?.length ?? 0)) freed.set(s.snapshotId, s.sizeGiB);
  return {
    target,
    name: group.name,
    toDelete: admitted.length,
    deferred: group.candidates.length - admitted.length,
    sizeGiB: [...freed.values()].reduce((a, b) => a + b, 0),
    kept: group.kept.length,
    keptByReason: countByReason(group.kept),
  };
}

/** Totals per target and over all targets, from each target's deletion preview. */
export function summarisePlan(
  inputs: readonly SummaryInput[],
  pricePerGibMonth: number = DEFAULT_SNAPSHOT_PRICE_PER_GIB_MONTH,
): PlanSummary {
  const targets = inputs.map(({ target, groups, preview }): TargetSummary => {
    const kept = groups.flatMap((g) => g.kept);
    return {
      target,
      images: preview.images,
      snapshots: preview.snapshots,
      sizeGiB: preview.sizeGiB,
      estimatedMonthlySavingUsd: preview.estimatedMonthlySavingUsd,
      orphanSnapshots: preview.orphanSnapshots,
      deferred: preview.deferredImages + preview.deferredOrphans,
      kept: kept.length,
      keptByReason: countByReason(kept),
      groups: groups.length,
    };
  });
  const sum = (pick: (t: TargetSummary) => number): number => targets.reduce((a, t) => a + pick(t), 0);
  const keptByReason: Partial<Record<KeepReason, number>> = {};
  for (const t of targets) addCounts(keptByReason, t.keptByReason);
  const sizeGiB = sum((t) => t.sizeGiB);
  return {
    targets,
    total: {
      images: sum((t) => t.images),
      snapshots: sum((t) => t.snapshots),
      sizeGiB,
      // From the summed size, not a sum of rounded per-target figures.
      estimatedMonthlySavingUsd: estimateMonthlySavingUsd(sizeGiB, pricePerGibMonth),
      orphanSnapshots: sum((t) => t.orphanSnapshots),
      deferred: sum((t) => t.deferred),
      kept: sum((t) => t.kept),
      keptByReason,
      groups: sum((t) => t.groups),
      accounts: new Set(targets.map((t) => t.target.accountId ?? '')).size,
      regions: new Set(targets.map((t) => t.target.region)).size,
    },
  };
}
