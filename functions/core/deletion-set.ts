/**
 * The deletion set: exactly the ids one run may delete, derived from a plan and the run's cap.
 * The plan hash is computed over this set (not over the whole plan), so the approval page, the
 * ledger and LoadApproved can each rebuild it from what they hold and compare hashes: a plan
 * that was widened anywhere after planning no longer matches what was approved.
 */
import type { Image, OrphanSnapshot, PlanCandidate, PlannedSnapshot } from './model.ts';
import { computePlanHash } from './plan-hash.ts';
import { compareOldestFirst } from './rotation.ts';
import { estimateMonthlySavingUsd } from './summary.ts';

/** One AMI to deregister and the snapshots to delete after it (those no other AMI maps). */
export interface DeletionImage {
  readonly imageId: string;
  readonly snapshotIds: readonly string[];
}

export interface DeletionSet {
  readonly region: string;
  readonly images: readonly DeletionImage[];
  readonly orphanSnapshots: readonly { readonly snapshotId: string }[];
}

/** A snapshot of a candidate that another AMI (kept, deferred, not in the plan) also maps: kept. */
export const isKeptShared = (snapshot: PlannedSnapshot): boolean => (snapshot.sharedWith?.length ?? 0) > 0;

/** The snapshot ids the deletion step deletes after deregistering this AMI. */
export function deletableSnapshotIds(snapshots: readonly PlannedSnapshot[]): string[] {
  return snapshots.filter((s) => !isKeptShared(s)).map((s) => s.snapshotId);
}

export interface Admission<C, O> {
  readonly candidates: C[];
  readonly orphanSnapshots: O[];
  readonly deferredCandidates: C[];
  readonly deferredOrphans: O[];
}

/**
 * What a run admits under its cap: candidates oldest first, then orphan snapshots in plan order,
 * `cap` in all (the ledger's recordPlan records the rest DEFERRED in the same order).
 */
export function admitUnderCap<C extends Pick<PlanCandidate, 'creationDate' | 'imageId'>, O>(
  candidates: readonly C[],
  orphanSnapshots: readonly O[],
  cap: number = Number.POSITIVE_INFINITY,
): Admission<C, O> {
  if (!(cap === Number.POSITIVE_INFINITY || (Number.isInteger(cap) && cap >= 0)))
    throw new RangeError(`maxDeletionsPerRun must be a whole number >= 0, got ${cap}`);
  const sorted = [...candidates].sort(compareOldestFirst);
  const imageSlots = Math.min(cap, sorted.length);
  const orphanSlots = Math.max(0, Math.min(cap - imageSlots, orphanSnapshots.length));
  return {
    candidates: sorted.slice(0, imageSlots),
    deferredCandidates: sorted.slice(imageSlots),
    orphanSnapshots: orphanSnapshots.slice(0, orphanSlots),
    deferredOrphans: orphanSnapshots.slice(orphanSlots),
  };
}

/** The plan hash of a deletion set. */
export function hashDeletionSet(set: DeletionSet): string {
  return computePlanHash({
    region: set.region,
    candidates: set.images.map((image) => ({
      imageId: image.imageId,
      snapshots: image.snapshotIds.map((snapshotId) => ({ snapshotId })),
    })),
    orphanSnapshots: set.orphanSnapshots,
  });
}

/** The deletion set of a plan's candidates and orphans under a cap. */
export function deletionSetOf(
  region: string,
  candidates: readonly PlanCandidate[],
  orphanSnapshots: readonly Pick<OrphanSnapshot, 'snapshotId'>[],
  cap?: number,
): DeletionSet {
  const admitted = admitUnderCap(candidates, orphanSnapshots, cap);
  return {
    region,
    images: admitted.candidates.map((c) => ({
      imageId: c.imageId,
      snapshotIds: deletableSnapshotIds(c.snapshots),
    })),
    orphanSnapshots: admitted.orphanSnapshots.map((o) => ({ snapshotId: o.snapshotId })),
  };
}

/**
 * Marks each candidate snapshot that an AMI outside the admitted candidates also maps
 * (`sharedWith`): DeleteSnapshots would keep it, so it is not part of what is deleted.
 */
export function markSharedSnapshots(
  candidates: readonly PlanCandidate[],
  admittedIds: ReadonlySet<string>,
  images: readonly Pick<Image, 'imageId' | 'snapshots'>[],
): PlanCandidate[] {
  const users = new Map<string, string[]>();
  for (const image of images) {
    if (admittedIds.has(image.imageId)) continue;
    for (const s of image.snapshots) {
      const list = users.get(s.snapshotId);
      if (list) list.push(image.imageId);
      else users.set(s.snapshotId, [image.imageId]);
    }
  }
  return candidates.map((c) => ({
    ...c,
    snapshots: c.snapshots.map((s) => {
      const { sharedWith: _previous, ...rest } = s;
      const others = users.get(s.snapshotId);
      return others ? { ...rest, sharedWith: [...new Set(others)].sort() } : rest;
    }),
  }));
}

/** What approving a plan deletes (and keeps), as the approval page and the email state it. */
export interface DeletionPreview {
  readonly images: number;
  /** Distinct snapshots of the admitted AMIs that will be deleted. */
  readonly imageSnapshots: number;
  readonly imageSnapshotsGiB: number;
  /** Distinct snapshots of the admitted AMIs kept because another AMI maps them. */
  readonly keptSharedSnapshots: readonly {
    readonly snapshotId: string;
    readonly sharedWith: readonly string[];
  }[];
  readonly orphanSnapshots: number;
  readonly orphanSizeGiB: number;
  /** Every snapshot to delete, AMI snapshots and orphans. */
  readonly snapshots: number;
  readonly sizeGiB: number;
  /** The summary's estimate (`estimateMonthlySavingUsd`) for `sizeGiB`: an upper bound. */
  readonly estimatedMonthlySavingUsd: number;
  readonly deferredImages: number;
  readonly deferredOrphans: number;
}

export function previewDeletion(
  candidates: readonly PlanCandidate[],
  orphanSnapshots: readonly OrphanSnapshot[],
  cap: number | undefined,
  pricePerGibMonth?: number,
): DeletionPreview {
  const admitted = admitUnderCap(candidates, orphanSnapshots, cap);
  const deleted = new Map<string, number>();
  const kept = new Map<string, readonly string[]>();
  for (const c of admitted.candidates) {
    for (const s of c.snapshots) {
      if (isKeptShared(s)) kept.set(s.snapshotId, s.sharedWith ?? []);
      else deleted.set(s.snapshotId, s.sizeGiB);
    }
  }
  const sum = (xs: Iterable<number>): number => [...xs].reduce((a, b) => a + b, 0);
  const imageSnapshotsGiB = sum(deleted.values());
  const orphanSizeGiB = sum(admitted.orphanSnapshots.map((o) => o.sizeGiB));
  const sizeGiB = imageSnapshotsGiB + orphanSizeGiB;
  return {
    images: admitted.candidates.length,
    imageSnapshots: deleted.size,
    imageSnapshotsGiB,
    keptSharedSnapshots: [...kept].map(([snapshotId, sharedWith]) => ({ snapshotId, sharedWith })),
    orphanSnapshots: admitted.orphanSnapshots.length,
    orphanSizeGiB,
    snapshots: deleted.size + admitted.orphanSnapshots.length,
    sizeGiB,
    estimatedMonthlySavingUsd: estimateMonthlySavingUsd(sizeGiB, pricePerGibMonth),
    deferredImages: admitted.deferredCandidates.length,
    deferredOrphans: admitted.deferredOrphans.length,
  };
}
