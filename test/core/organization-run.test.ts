import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  organizationHistoryBudget,
  organizationHistoryProblem,
  plannedTarget,
  runScope,
  TargetScopeError,
  targetPhaseExecutionName,
  targetRunId,
} from '../../functions/core/organization-run.ts';
import type { AslStates } from '../../functions/core/quotas.ts';
import { target } from '../../functions/core/target.ts';

const A = '111111111111';
const B = '222222222222';
const C = '333333333333';
const EU = 'eu-west-1';
const US = 'us-east-1';

describe('runScope', () => {
  it('plans every target; reads references only in regions with more than one target account', () => {
    // Prepare
    const targets = [target(B, EU), target(A, EU), target(A, US)];

    // Act
    const scope = runScope(targets);

    // Assess
    expect(scope.plan.map((t) => t.key)).toEqual([`${A}-${EU}`, `${A}-${US}`, `${B}-${EU}`]);
    expect(scope.references.map((t) => t.key)).toEqual([`${A}-${EU}`, `${B}-${EU}`]);
  });

  it("scopes a new AMI's run to its target, still reading every consumer of its region", () => {
    // Prepare
    const targets = [target(A, EU), target(B, EU), target(C, EU), target(C, US)];

    // Act
    const scope = runScope(targets, target(B, EU));

    // Assess
    expect(scope.plan.map((t) => t.key)).toEqual([`${B}-${EU}`]);
    expect(scope.references.map((t) => t.key)).toEqual([`${A}-${EU}`, `${B}-${EU}`, `${C}-${EU}`]);
  });

  it('refuses a new AMI of an account or region that is not a target', () => {
    // Act
    const act = () => runScope([target(A, EU)], target(A, US));

    // Assess
    expect(act).toThrow(TargetScopeError);
    expect(act).toThrow(`account ${A} in ${US} is not one of this deployment's targets`);
  });
});

describe('target run names', () => {
  it('start with the target key, and the phases of one run differ while sharing its run id', () => {
    // Prepare
    const each = target(A, EU);

    // Act
    const planned = plannedTarget(each, 'manual-20261201T120000Z-abc123');

    // Assess
    expect(planned.runId).toBe(targetRunId(each, 'manual-20261201T120000Z-abc123'));
    expect(planned.runId.startsWith(`${A}-${EU}-`)).toBe(true);
    expect(new Set(Object.values(planned.names)).size).toBe(3);
    for (const phase of ['plan', 'delete', 'close'] as const) {
      expect(planned.names[phase]).toBe(
        targetPhaseExecutionName(each, 'manual-20261201T120000Z-abc123', phase),
      );
      expect(planned.names[phase].length).toBeLessThanOrEqual(80);
    }
  });

  it('stay within 80 characters and distinct for the longest run ids', () => {
    // Prepare
    const each = target(A, 'us-isob-northwest-10');
    const parent = 'x'.repeat(80);

    // Act
    const names = Object.values(plannedTarget(each, parent).names);

    // Assess
    expect(names.every((n) => n.length <= 80 && n.startsWith(each.key))).toBe(true);
    expect(new Set(names).size).toBe(3);
  });
});

describe("the organization run's history budget", () => {
  it("counts one iteration of every Map per target, from the definition's own states", () => {
    // Prepare
    const definition = JSON.parse(
      readFileSync(new URL('../../statemachine/organization.asl.json', import.meta.url), 'utf8'),
    ) as AslStates;

    // Act
    const budget = organizationHistoryBudget(definition);

    // Assess
    const maps = Object.values(definition.States).filter((s) => s.Type === 'Map');
    expect(maps.length).toBe(4);
    expect(budget.perTarget).toBeGreaterThan(4 * 2 * 4); // each iteration: its events and a child start
    const fits = Math.floor((25_000 - budget.fixed) / budget.perTarget);
    expect(organizationHistoryProblem(budget, fits)).toBeNull();
    expect(organizationHistoryProblem(budget, fits + 1)).toMatch(
      new RegExp(`^${fits + 1} targets could take [\\d,]+ history events .* past Step Functions' 25,000`),
    );
  });
});
