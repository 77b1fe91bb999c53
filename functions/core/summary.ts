/** Sizes and an estimated saving, as shown by the CLI, the approval page and the run summary. */
import type { PlanTotals } from './model.ts';

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
