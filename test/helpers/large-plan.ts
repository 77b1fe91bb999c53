/**
 * Plans of any size and any number of targets, built through the core's own `assemblePlan` (rows
 * stamped with their target, hashed as Rotate hashes) and `combineTargetPlans` (the multi-target
 * shape the approval page reads). For the page tests and `bench/page-size.ts`.
 */
import type { KeptImage, Plan, PlanCandidate, PlanGroup, PlanTargetRef } from '../../functions/core/model.ts';
import { assemblePlan } from '../../functions/core/plan.ts';
import { combineTargetPlans } from '../../functions/core/plan-targets.ts';

export interface LargePlanOptions {
  /** AMIs per target (candidates + kept). */
  readonly amis: number;
  /** Of those, candidates per target. */
  readonly candidates: number;
  /** AMIs per group (the demo's generated scenario has 20). */
  readonly groupSize?: number;
  readonly maxDeletionsPerRun?: number;
  /** Orphan snapshots per target. */
  readonly orphans?: number;
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');
const day = (n: number): string => new Date(Date.UTC(2025, 0, 1) + n * 3_600_000).toISOString();

/** One target's plan: `amis` AMIs in groups of `groupSize`, the oldest `candidates` of them candidates. */
export function targetPlan(target: PlanTargetRef, options: LargePlanOptions, seed = 0): Plan {
  const size = options.groupSize ?? 20;
  const groupCount = Math.ceil(options.amis / size);
  // Candidates spread evenly over the groups, as rotation leaves the oldest of each.
  const perGroup = options.amis === 0 ? 0 : options.candidates / options.amis;
  const groups: PlanGroup[] = [];
  let made = 0;
  let candidatesMade = 0;
  for (let g = 0; g < groupCount; g += 1) {
    const name = `app-${hex(g, 4)}.${g % 2 === 0 ? 'prod' : 'dev'}`;
    const n = Math.min(size, options.amis - made);
    const wantCandidates = Math.min(n, Math.round((made + n) * perGroup) - candidatesMade);
    const candidates: PlanCandidate[] = [];
    const kept: KeptImage[] = [];
    for (let i = 0; i < n; i += 1) {
      const id = seed * 10_000_000 + made + i;
      const imageId = `ami-${hex(id, 17)}`;
      const base = {
        imageId,
        name: `${name}-build-${hex(id, 6)}`,
        creationDate: day(id % 100_000),
        group: name,
      };
      if (i < wantCandidates) {
        candidates.push({
          ...base,
          snapshots: [
            { snapshotId: `snap-${hex(id, 17)}`, sizeGiB: 8 },
            { snapshotId: `snap-${hex(id + 5_000_000, 17)}`, sizeGiB: 2 },
          ],
        });
      } else {
        const inUse = i % 7 === 0;
        kept.push({
          ...base,
          reason: inUse ? 'IN_USE' : 'KEEP_PREVIOUS',
          detail: inUse ? `instance i-${hex(id, 17)} (running)` : 'one of the 4 newest not in use',
        });
      }
    }
    groups.push({ name, candidates, kept });
    made += n;
    candidatesMade += candidates.length;
  }
  const orphans = Array.from({ length: options.orphans ?? 0 }, (_, i) => {
    const id = seed * 10_000_000 + 9_000_000 + i;
    return {
      snapshotId: `snap-${hex(id, 17)}`,
      imageId: `ami-${hex(id, 17)}`,
      sizeGiB: 30,
      description: `Created by CreateImage(i-${hex(id, 17)}) for ami-${hex(id, 17)}`,
    };
  });
  return assemblePlan({
    region: target.region,
    ...(target.accountId === undefined ? {} : { accountId: target.accountId }),
    now: '2026-05-01T10:00:00.000Z',
    groups,
    orphanSnapshots: orphans,
    ...(options.maxDeletionsPerRun === undefined ? {} : { maxDeletionsPerRun: options.maxDeletionsPerRun }),
  });
}

/** `count` targets: accounts 1000000000NN in two regions, alternately. */
export function targetsOf(count: number): PlanTargetRef[] {
  return Array.from({ length: count }, (_, i) => ({
    accountId: String(100_000_000_000 + Math.floor(i / 2) + 1),
    region: i % 2 === 0 ? 'eu-west-1' : 'us-east-1',
  }));
}

/** A plan of every target in `targets`, each with `options` (ids distinct across targets). */
export function largePlan(targets: readonly PlanTargetRef[], options: LargePlanOptions): Plan {
  return combineTargetPlans(
    targets.map((t, i) => targetPlan(t, options, i)),
    '2026-05-01T10:00:00.000Z',
  );
}
