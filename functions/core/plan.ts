/**
 * The plan: grouping, in-use filtering, rotation and the orphan sweep composed. The step
 * functions below are what the workflow's Lambdas call one at a time; their inputs and outputs
 * are plain JSON (no Map or Set), because the workspace stores them between states.
 * `buildPlan` is exactly those steps in sequence.
 */

import { type AccountUse, splitUsedByOtherAccounts } from './cross-account-use.ts';
import { admitUnderCap, deletionSetOf, hashDeletionSet, markSharedSnapshots } from './deletion-set.ts';
import { EXCLUDED_GROUP, groupImages, type ImageGroup } from './grouping.ts';
import { findReferences } from './in-use.ts';
import type {
  AwsImageReference,
  Image,
  Inventory,
  KeptImage,
  OrphanSnapshot,
  Plan,
  PlanCandidate,
  PlanGroup,
  PlanTotals,
} from './model.ts';
import { findOrphanSnapshots } from './orphans.ts';
import { compareNewestFirst, rotateGroup, sharingCheckImageIds, splitInUse, toEpochMs } from './rotation.ts';
import { keepAwsReferenced } from './second-opinion.ts';
import type { PlanSettings } from './settings.ts';

/** Output of the MapGroups step. */
export interface MappedGroups {
  /** Sorted by name; the excluded group is not among them. */
  readonly groups: readonly ImageGroup[];
  readonly excluded: readonly KeptImage[];
}

export interface FilteredGroup extends ImageGroup {
  /** Referenced images of this group, kept with IN_USE, newest first. `images` no longer holds them. */
  readonly inUse: readonly KeptImage[];
}

/** Output of the FilterInUse step. */
export interface FilteredGroups {
  readonly groups: readonly FilteredGroup[];
  readonly excluded: readonly KeptImage[];
  /**
   * The other targets of the region whose references were unioned in, and those that could not be
   * read: the shared-AMI decision (`sharedAmis: delete-when-unused`) needs both. Absent: none.
   */
  readonly consumers?: ConsumerAccounts;
}

export interface ConsumerAccounts {
  readonly readable: readonly string[];
  readonly unreadable: readonly string[];
}

export interface MapStepInput {
  readonly images: readonly Image[];
  readonly settings: PlanSettings;
  /** Restricts the run to the group holding this AMI; none if unknown. */
  readonly triggerImageId?: string;
}

/** MapGroups: group the images; with a trigger, keep only the group that holds it. */
export function mapStep({ images, settings, triggerImageId }: MapStepInput): MappedGroups {
  const { groups, excluded } = groupImages(images, settings);
  if (triggerImageId === undefined) return { groups, excluded };
  const group = groups.find((g) => g.images.some((i) => i.imageId === triggerImageId));
  if (group) return { groups: [group], excluded: [] };
  // In the excluded group the run shows that group (so the ledger says why) but has no candidates.
  return { groups: [], excluded: excluded.some((k) => k.imageId === triggerImageId) ? excluded : [] };
}

/**
 * FilterInUse: resolve every reference in the whole inventory (an unresolved one throws
 * `UnresolvedReferenceError`, even outside the triggered group) and set referenced AMIs aside.
 */
export function filterInUseStep({
  inventory,
  mapped,
  consumerUse,
  consumers,
}: {
  readonly inventory: Inventory;
  readonly mapped: MappedGroups;
  /** Other accounts' use of AMIs (`consumerUseByImage`): unioned before any rotation. Default: none. */
  readonly consumerUse?: ReadonlyMap<string, readonly AccountUse[]>;
  readonly consumers?: ConsumerAccounts;
}): FilteredGroups {
  const references = findReferences(inventory);
  const groups = mapped.groups.map((g) => {
    const own = splitInUse(g.name, g.images, references);
    if (consumerUse === undefined || consumerUse.size === 0) {
      return { name: g.name, key: g.key, images: own.remaining, inUse: own.inUse };
    }
    const { remaining, usedElsewhere } = splitUsedByOtherAccounts(g.name, own.remaining, consumerUse);
    const inUse = [...own.inUse, ...usedElsewhere].sort(compareNewestFirst);
    return { name: g.name, key: g.key, images: remaining, inUse };
  });
  return { groups, excluded: mapped.excluded, ...(consumers === undefined ? {} : { consumers }) };
}

export interface SharingCheckStepInput {
  readonly filtered: FilteredGroups;
  readonly settings: PlanSettings;
  readonly now: Date | string;
  /** The run's `maxDeletionsPerRun`: at most this many AMIs are looked up. Default: no limit. */
  readonly limit?: number;
}

/**
 * Which AMIs' launch permissions the adapter must read before `rotateStep`: the would-be
 * candidates that are not public, oldest first across all groups (the order `recordPlan` admits
 * candidates in), at most `limit` of them.
 */
export function sharingCheckStep({ filtered, settings, now, limit }: SharingCheckStepInput): string[] {
  return sharingCheckImageIds(filtered.groups, { settings, now }, limit);
}

export interface RotateStepInput {
  readonly filtered: FilteredGroups;
  readonly settings: PlanSettings;
  readonly now: Date | string;
  /** Of the checked AMIs, those with launch permissions for other accounts. */
  readonly sharedImageIds: ReadonlySet<string> | readonly string[];
  /**
   * The AMIs whose launch permissions were read (`sharingCheckStep`'s result). A would-be
   * candidate not among them (and not public) is kept as MAX_DELETIONS_PER_RUN.
   */
  readonly sharingCheckedIds: ReadonlySet<string> | readonly string[];
  /** The limit `sharingCheckStep` was given; only named in the deferred AMIs' detail. */
  readonly limit?: number;
}

/** Rotate: every group rotated, sorted by name, the excluded group (if any) last. */
export function rotateStep({
  filtered,
  settings,
  now,
  sharedImageIds,
  sharingCheckedIds,
  limit,
}: RotateStepInput): PlanGroup[] {
  const asSet = (ids: ReadonlySet<string> | readonly string[]) => (ids instanceof Set ? ids : new Set(ids));
  const ctx = {
    settings,
    now,
    sharedImageIds: asSet(sharedImageIds),
    sharingCheckedIds: asSet(sharingCheckedIds),
    ...(limit === undefined ? {} : { maxDeletionsPerRun: limit }),
  };
  const groups = filtered.groups
    .map((g) => rotateGroup(g, ctx))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (filtered.excluded.length > 0) {
    groups.push({
      name: EXCLUDED_GROUP,
      candidates: [],
      kept: [...filtered.excluded].sort(compareNewestFirst),
    });
  }
  return groups;
}

/**
 * The second opinion, after `rotateStep` (when the candidates are final): the AMIs our inventory
 * found unused but DescribeImageReferences reports in use are kept AWS_REPORTS_IN_USE.
 */
export function secondOpinionStep({
  groups,
  awsReferences,
}: {
  readonly groups: readonly PlanGroup[];
  /** AWS's complete answer for every candidate of `groups`. */
  readonly awsReferences: readonly AwsImageReference[];
}): PlanGroup[] {
  return keepAwsReferenced(groups, awsReferences);
}

/**
 * The orphan sweep, when `checkOrphans` is on. Not in triggered runs: those are scoped to one
 * group, and a trigger for an unknown AMI must give a plan with nothing to approve.
 */
export function orphanStep({
  inventory,
  settings,
  triggerImageId,
}: {
  readonly inventory: Pick<Inventory, 'snapshots' | 'images'>;
  readonly settings: Pick<PlanSettings, 'checkOrphans'>;
  readonly triggerImageId?: string;
}): OrphanSnapshot[] {
  if (!settings.checkOrphans || triggerImageId !== undefined) return [];
  return findOrphanSnapshots(inventory.snapshots, inventory.images);
}

/** Every candidate of a plan, group by group. */
export function planCandidates(plan: Pick<Plan, 'groups'>): PlanCandidate[] {
  return plan.groups.flatMap((g) => g.candidates);
}

/** Totals; a snapshot shared by two candidates is counted (and sized) once. */
export function planTotals(
  groups: readonly PlanGroup[],
  orphanSnapshots: readonly OrphanSnapshot[],
): PlanTotals {
  const snapshots = new Map<string, number>();
  for (const c of groups.flatMap((g) => g.candidates)) {
    for (const s of c.snapshots) snapshots.set(s.snapshotId, s.sizeGiB);
  }
  const sum = (xs: Iterable<number>): number => [...xs].reduce((a, b) => a + b, 0);
  return {
    candidates: sum(groups.map((g) => g.candidates.length)),
    candidateSnapshots: snapshots.size,
    candidateSizeGiB: sum(snapshots.values()),
    orphanSnapshots: orphanSnapshots.length,
    orphanSizeGiB: sum(orphanSnapshots.map((s) => s.sizeGiB)),
    kept: sum(groups.map((g) => g.kept.length)),
  };
}

/**
 * The final step: marks candidate snapshots other AMIs still map, then the hash (over the
 * deletion set under the cap) and totals over rotated groups and orphans.
 */
export function assemblePlan({
  region,
  accountId,
  now,
  groups: rotated,
  orphanSnapshots,
  images = [],
  maxDeletionsPerRun,
}: {
  readonly region: string;
  /** The target's account, when known: with the region, it is stamped on every row. */
  readonly accountId?: string;
  readonly now: Date | string;
  readonly groups: readonly PlanGroup[];
  readonly orphanSnapshots: readonly OrphanSnapshot[];
  /** Every AMI of the inventory, to find the snapshots another AMI maps. */
  readonly images?: readonly Pick<Image, 'imageId' | 'snapshots'>[];
  readonly maxDeletionsPerRun?: number;
}): Plan {
  const admitted = admitUnderCap(planCandidates({ groups: rotated }), orphanSnapshots, maxDeletionsPerRun);
  const admittedIds = new Set(admitted.candidates.map((c) => c.imageId));
  // Every row names its target, so plans of many targets are the concatenation of these.
  const where = { ...(accountId === undefined ? {} : { accountId }), region };
  const groups = rotated.map((g) => ({
    ...where,
    ...g,
    candidates: markSharedSnapshots(g.candidates, admittedIds, images).map((c) => ({ ...where, ...c })),
    kept: g.kept.map((k) => ({ ...where, ...k })),
  }));
  const orphans = orphanSnapshots.map((o) => ({ ...where, ...o }));
  const planHash = hashDeletionSet(
    deletionSetOf(region, planCandidates({ groups }), orphans, maxDeletionsPerRun),
  );
  return {
    planHash,
    ...(maxDeletionsPerRun === undefined ? {} : { maxDeletionsPerRun }),
    ...where,
    createdAt: new Date(toEpochMs(now)).toISOString(),
    groups,
    orphanSnapshots: orphans,
    totals: planTotals(groups, orphans),
  };
}

export interface BuildPlanInput {
  readonly inventory: Inventory;
  readonly settings: PlanSettings;
  readonly now: Date | string;
  /** AMIs with launch permissions for other accounts (the caller reads them, see `sharingCheckStep`). */
  readonly sharedImageIds: ReadonlySet<string>;
  readonly triggerImageId?: string;
  /** Limits the sharing check as a run's cap does (see `sharingCheckStep`). Default: no limit. */
  readonly maxDeletionsPerRun?: number;
  /** DescribeImageReferences' answer for the candidates (see `secondOpinionStep`). Default: none. */
  readonly awsReferences?: readonly AwsImageReference[];
  /** The account planned, stamped on every row with the region (see `assemblePlan`). */
  readonly accountId?: string;
}

/** The whole plan in one call (CLI, local runner); the workflow runs the same steps one by one. */
export function buildPlan({
  inventory,
  settings,
  now,
  sharedImageIds,
  triggerImageId,
  maxDeletionsPerRun,
  awsReferences = [],
  accountId,
}: BuildPlanInput): Plan {
  const mapped = mapStep({ images: inventory.images, settings, triggerImageId });
  const filtered = filterInUseStep({ inventory, mapped });
  const limit = maxDeletionsPerRun;
  const sharingCheckedIds = sharingCheckStep({ filtered, settings, now, limit });
  const rotated = rotateStep({ filtered, settings, now, sharedImageIds, sharingCheckedIds, limit });
  const groups = secondOpinionStep({ groups: rotated, awsReferences });
  const orphanSnapshots = orphanStep({ inventory, settings, triggerImageId });
  return assemblePlan({
    region: inventory.region,
    ...(accountId === undefined ? {} : { accountId }),
    now,
    groups,
    orphanSnapshots,
    images: inventory.images,
    ...(maxDeletionsPerRun === undefined ? {} : { maxDeletionsPerRun }),
  });
}
