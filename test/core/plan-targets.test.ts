import { describe, expect, it } from 'vitest';
import { deletionSetOf, hashDeletionSet } from '../../functions/core/deletion-set.ts';
import type { Plan } from '../../functions/core/model.ts';
import { planCandidates } from '../../functions/core/plan.ts';
import {
  combineTargetPlans,
  hashPlanDeletion,
  PlanShapeError,
  planTargetSlices,
} from '../../functions/core/plan-targets.ts';
import { targetPlan } from '../helpers/large-plan.ts';
import { smallPlan } from '../helpers/ledger-fixtures.ts';

const A = { accountId: '111111111111', region: 'eu-west-1' };
const B = { accountId: '222222222222', region: 'eu-west-1' };
const C = { accountId: '111111111111', region: 'us-east-1' };
const options = { amis: 40, candidates: 10, maxDeletionsPerRun: 6, orphans: 1 };

describe('plans as targets', () => {
  it('hashes a one-target plan exactly as before targets, with or without rows naming it', () => {
    // Prepare
    const legacy = smallPlan({ maxDeletionsPerRun: 2 });
    const stamped = targetPlan(A, options);

    // Act
    const legacyHash = hashPlanDeletion(legacy);

    // Assess
    const set = deletionSetOf(legacy.region, planCandidates(legacy), legacy.orphanSnapshots, 2);
    expect(legacyHash).toBe(hashDeletionSet(set));
    expect(hashPlanDeletion(stamped)).toBe(stamped.planHash);
    expect(planTargetSlices(legacy)).toHaveLength(1);
  });

  it('combines plans in account-then-region order, every row keeping its target, hashed over every target', () => {
    // Prepare
    const plans = [targetPlan(C, options, 3), targetPlan(B, options, 2), targetPlan(A, options, 1)];

    // Act
    const combined = combineTargetPlans(plans, '2026-05-01T10:00:00.000Z');

    // Assess
    expect(combined.targets).toEqual([A, C, B]);
    const slices = planTargetSlices(combined);
    expect(slices.map((s) => s.target)).toEqual([A, C, B]);
    for (const slice of slices) {
      const own = plans.find(
        (p) => p.accountId === slice.target.accountId && p.region === slice.target.region,
      );
      expect(slice.groups.flatMap((g) => g.candidates)).toEqual(own?.groups.flatMap((g) => g.candidates));
      expect(slice.orphanSnapshots).toEqual(own?.orphanSnapshots);
    }
    expect(combined.totals.candidates).toBe(30);
    expect(combined.planHash).toBe(hashPlanDeletion(combined));
    expect(new Set([combined.planHash, ...plans.map((p) => p.planHash)]).size).toBe(4);
  });

  it('changes the hash when an id moves to another target, or a target loses one', () => {
    // Prepare
    const combined = combineTargetPlans([targetPlan(A, options, 1), targetPlan(B, options, 2)], 'now');
    const [first, ...rest] = combined.groups;
    if (!first) throw new Error('no group');
    const moved: Plan = {
      ...combined,
      groups: [
        {
          ...first,
          ...B,
          candidates: first.candidates.map((c) => ({ ...c, ...B })),
          kept: first.kept.map((k) => ({ ...k, ...B })),
        },
        ...rest,
      ],
    };
    const fewer: Plan = {
      ...combined,
      groups: [{ ...first, candidates: first.candidates.slice(1) }, ...rest],
    };

    // Act
    const hashes = [hashPlanDeletion(moved), hashPlanDeletion(fewer)];

    // Assess
    expect(hashes).not.toContain(combined.planHash);
    expect(hashes[0]).not.toBe(hashes[1]);
  });

  it.each([
    [
      'a row of a group names another target',
      (p: Plan): Plan => rewriteFirstCandidate(p, { accountId: B.accountId }),
    ],
    ['a row names a target not listed', (p: Plan): Plan => ({ ...p, targets: [A] })],
    ['a target is listed twice', (p: Plan): Plan => ({ ...p, targets: [A, A, B] })],
    [
      'a multi-target row names no target',
      (p: Plan): Plan => ({
        ...p,
        orphanSnapshots: p.orphanSnapshots.map(({ accountId: _a, region: _r, ...o }) => o),
      }),
    ],
  ])('refuses a plan where %s', (_what, rewrite) => {
    // Prepare
    const combined = combineTargetPlans([targetPlan(A, options, 1), targetPlan(B, options, 2)], 'now');

    // Act
    const attempt = () => planTargetSlices(rewrite(combined));

    // Assess
    expect(attempt).toThrow(PlanShapeError);
  });

  it('refuses to combine plans made under different caps', () => {
    // Act
    const attempt = () =>
      combineTargetPlans(
        [targetPlan(A, options), targetPlan(B, { ...options, maxDeletionsPerRun: 7 })],
        'now',
      );

    // Assess
    expect(attempt).toThrow(/same maxDeletionsPerRun/);
  });
});

function rewriteFirstCandidate(plan: Plan, change: { accountId: string }): Plan {
  const [first, ...rest] = plan.groups;
  if (!first) throw new Error('no group');
  const [c, ...others] = first.candidates;
  if (!c) throw new Error('no candidate');
  return { ...plan, groups: [{ ...first, candidates: [{ ...c, ...change }, ...others] }, ...rest] };
}
