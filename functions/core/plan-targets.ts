/**
 * A plan as targets (account × region): which rows belong to which target, what each target's
 * deletion set is under the cap, and the plan hash over all of them. A single-target plan is the
 * one-target case and hashes exactly as before targets existed. The approval page and the email
 * read plans only through these functions (the shape is in DESIGN.md, "The plan the approval
 * page reads").
 */
import { createHash } from 'node:crypto';
import {
  type Admission,
  admitUnderCap,
  type DeletionPreview,
  type DeletionSet,
  deletionSetOf,
  hashDeletionSet,
  previewDeletion,
} from './deletion-set.ts';
import type { OrphanSnapshot, Plan, PlanCandidate, PlanGroup, PlanTargetRef } from './model.ts';
import { estimateMonthlySavingUsd } from './summary.ts';

/** One target's part of a plan: its groups (rows all of this target) and its orphan snapshots. */
export interface TargetSlice {
  readonly target: PlanTargetRef;
  readonly groups: readonly PlanGroup[];
  readonly orphanSnapshots: readonly OrphanSnapshot[];
}

/** The plan's rows do not say consistently which target they belong to: nothing may be shown or approved. */
export class PlanShapeError extends Error {
  override readonly name = 'PlanShapeError';
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The order of targets everywhere (page, email, hash): account, then region. */
export function compareTargetRefs(a: PlanTargetRef, b: PlanTargetRef): number {
  return byText(a.accountId ?? '', b.accountId ?? '') || byText(a.region, b.region);
}

export const targetRefKey = (t: PlanTargetRef): string => `${t.accountId ?? ''}/${t.region}`;

function refOf(row: { readonly accountId?: string; readonly region?: string }, fallback: PlanTargetRef) {
  const accountId = row.accountId ?? fallback.accountId;
  return { ...(accountId === undefined ? {} : { accountId }), region: row.region ?? fallback.region };
}

/**
 * The plan split by target, in `compareTargetRefs` order. Throws `PlanShapeError` when a row
 * names another target than its group, a row names a target the plan does not list, or a target
 * is listed twice: a plan that cannot say where it deletes is not shown.
 */
export function planTargetSlices(plan: Plan): TargetSlice[] {
  const planRef = refOf(plan, { region: plan.region });
  const listed = plan.targets ?? [planRef];
  const slices = new Map<string, { target: PlanTargetRef; groups: PlanGroup[]; orphans: OrphanSnapshot[] }>();
  for (const t of listed) {
    if (typeof t?.region !== 'string') throw new PlanShapeError('a listed target has no region');
    const key = targetRefKey(t);
    if (slices.has(key)) throw new PlanShapeError(`target ${key} is listed twice`);
    slices.set(key, { target: refOf(t, t), groups: [], orphans: [] });
  }
  // Rows without a target of their own belong to the plan's (one target only).
  const sliceOf = (row: { accountId?: string; region?: string }, fallback: PlanTargetRef) => {
    const key = targetRefKey(refOf(row, fallback));
    const slice = slices.get(key);
    if (!slice) throw new PlanShapeError(`a row names target ${key}, which the plan does not list`);
    return { slice };
  };
  const fallback = plan.targets ? { region: '' } : planRef;
  for (const group of plan.groups) {
    const { slice } = sliceOf(group, fallback);
    const { accountId, region } = slice.target;
    for (const rows of [group.candidates, group.kept]) {
      for (const row of rows) {
        if ((row.accountId ?? accountId) !== accountId || (row.region ?? region) !== region)
          throw new PlanShapeError(`a row of group ${JSON.stringify(group.name)} names another target`);
      }
    }
    slice.groups.push(group);
  }
  for (const orphan of plan.orphanSnapshots) sliceOf(orphan, fallback).slice.orphans.push(orphan);
  return [...slices.values()]
    .map((s) => ({ target: s.target, groups: s.groups, orphanSnapshots: s.orphans }))
    .sort((a, b) => compareTargetRefs(a.target, b.target));
}

const candidatesOf = (slice: TargetSlice): PlanCandidate[] => slice.groups.flatMap((g) => g.candidates);

/** What each target admits under the plan's cap (the cap applies per target: each deletes on its own budget). */
export function admitByTarget(
  plan: Plan,
  slices: readonly TargetSlice[] = planTargetSlices(plan),
): Admission<PlanCandidate, OrphanSnapshot>[] {
  return slices.map((s) => admitUnderCap(candidatesOf(s), s.orphanSnapshots, plan.maxDeletionsPerRun));
}

/** Each target's deletion set, in target order. */
export function deletionSetsByTarget(
  plan: Plan,
  slices: readonly TargetSlice[] = planTargetSlices(plan),
): { readonly target: PlanTargetRef; readonly set: DeletionSet }[] {
  return slices.map((s) => ({
    target: s.target,
    set: deletionSetOf(s.target.region, candidatesOf(s), s.orphanSnapshots, plan.maxDeletionsPerRun),
  }));
}

/**
 * The hash the approval binds to. One target: its deletion set's hash, as before targets. Many:
 * sha256 over every target's (account, region, deletion-set hash) in target order, so the hash
 * covers every target's ids and moving an id between targets changes it.
 */
export function hashPlanDeletion(
  plan: Plan,
  slices: readonly TargetSlice[] = planTargetSlices(plan),
): string {
  const sets = deletionSetsByTarget(plan, slices);
  const [only] = sets;
  if (sets.length === 1 && only) return hashDeletionSet(only.set);
  const canonical = JSON.stringify([
    'ami-cleaner/plan/targets/v1',
    sets.map(({ target, set }) => [target.accountId ?? '', target.region, hashDeletionSet(set)]),
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

/** Each target's deletion preview (what approving deletes there), in target order. */
export function previewByTarget(
  plan: Plan,
  pricePerGibMonth?: number,
  slices: readonly TargetSlice[] = planTargetSlices(plan),
): { readonly target: PlanTargetRef; readonly preview: DeletionPreview }[] {
  return slices.map((s) => ({
    target: s.target,
    preview: previewDeletion(candidatesOf(s), s.orphanSnapshots, plan.maxDeletionsPerRun, pricePerGibMonth),
  }));
}

/** The previews of every target added up: what approving the whole plan deletes. */
export function combinePreviews(
  previews: readonly DeletionPreview[],
  pricePerGibMonth?: number,
): DeletionPreview {
  const sum = (pick: (p: DeletionPreview) => number): number => previews.reduce((a, p) => a + pick(p), 0);
  const sizeGiB = sum((p) => p.sizeGiB);
  return {
    images: sum((p) => p.images),
    imageSnapshots: sum((p) => p.imageSnapshots),
    imageSnapshotsGiB: sum((p) => p.imageSnapshotsGiB),
    keptSharedSnapshots: previews.flatMap((p) => p.keptSharedSnapshots),
    orphanSnapshots: sum((p) => p.orphanSnapshots),
    orphanSizeGiB: sum((p) => p.orphanSizeGiB),
    snapshots: sum((p) => p.snapshots),
    sizeGiB,
    estimatedMonthlySavingUsd: estimateMonthlySavingUsd(sizeGiB, pricePerGibMonth),
    deferredImages: sum((p) => p.deferredImages),
    deferredOrphans: sum((p) => p.deferredOrphans),
  };
}

/**
 * One plan of many targets, from one plan per target (what each target's planning wrote): the
 * shape the approval page and the email read (DESIGN.md, "The plan the approval page reads").
 * Every plan must have been made under the same cap; rows keep the target planning stamped.
 */
export function combineTargetPlans(plans: readonly Plan[], createdAt: string): Plan {
  const [first] = plans;
  if (!first) throw new PlanShapeError('a plan needs at least one target');
  if (plans.length === 1) return first;
  const cap = first.maxDeletionsPerRun;
  if (plans.some((p) => p.maxDeletionsPerRun !== cap))
    throw new PlanShapeError('every target must be planned under the same maxDeletionsPerRun');
  const stamp = (p: Plan) => refOf(p, { region: p.region });
  const sorted = [...plans].sort((a, b) => compareTargetRefs(stamp(a), stamp(b)));
  // Rows that lack a target of their own get their plan's, so the combined plan is unambiguous.
  const own = <T extends { accountId?: string; region?: string }>(row: T, p: Plan): T => ({
    ...stamp(p),
    ...row,
  });
  const groups = sorted.flatMap((p) =>
    p.groups.map((g) => ({
      ...own(g, p),
      candidates: g.candidates.map((c) => own(c, p)),
      kept: g.kept.map((k) => own(k, p)),
    })),
  );
  const orphanSnapshots = sorted.flatMap((p) => p.orphanSnapshots.map((o) => own(o, p)));
  const sum = (pick: (p: Plan) => number): number => sorted.reduce((a, p) => a + pick(p), 0);
  const [lead] = sorted;
  const combined: Plan = {
    planHash: '',
    ...(cap === undefined ? {} : { maxDeletionsPerRun: cap }),
    region: lead?.region ?? first.region,
    targets: sorted.map(stamp),
    createdAt,
    groups,
    orphanSnapshots,
    totals: {
      candidates: sum((p) => p.totals.candidates),
      candidateSnapshots: sum((p) => p.totals.candidateSnapshots),
      candidateSizeGiB: sum((p) => p.totals.candidateSizeGiB),
      orphanSnapshots: sum((p) => p.totals.orphanSnapshots),
      orphanSizeGiB: sum((p) => p.totals.orphanSizeGiB),
      kept: sum((p) => p.totals.kept),
    },
  };
  return { ...combined, planHash: hashPlanDeletion(combined) };
}
