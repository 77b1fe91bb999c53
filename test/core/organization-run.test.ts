import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  organizationHistoryBudget,
  organizationHistoryProblem,
  organizationPayloadProblem,
  organizationStateBytes,
  plannedTarget,
  runScope,
  TARGET_PHASES,
  TargetScopeError,
  targetPhaseExecutionName,
  targetRunId,
  worstCaseOrganizationState,
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
  it('start with the target key, and the phases of one run are its run id and the phase', () => {
    // Prepare
    const each = target(A, EU);
    const parent = 'manual-20261201T120000Z-abc123';

    // Act
    const planned = plannedTarget(each, parent);
    const names = TARGET_PHASES.map((phase) => targetPhaseExecutionName(each, parent, phase));

    // Assess
    expect(planned).toEqual({ accountId: A, region: EU, runId: `${A}-${EU}-${parent}` });
    expect(planned.runId).toBe(targetRunId(each, parent));
    // What the definition builds with States.Format('{}-<phase>', $.target.runId).
    expect(names).toEqual([`${planned.runId}-plan`, `${planned.runId}-delete`, `${planned.runId}-close`]);
  });

  it('stay within 80 characters and distinct for the longest run ids', () => {
    // Prepare
    const each = target(A, 'us-isob-northwest-10');
    const parents = ['x'.repeat(80), `${'x'.repeat(79)}y`];

    // Act
    const names = parents.flatMap((parent) =>
      TARGET_PHASES.map((phase) => targetPhaseExecutionName(each, parent, phase)),
    );

    // Assess
    expect(names.every((n) => n.length <= 80 && n.startsWith(each.key))).toBe(true);
    expect(new Set(names).size).toBe(6);
    expect(parents.every((parent) => targetRunId(each, parent).length <= 80 - '-delete'.length)).toBe(true);
  });
});

describe("the organization run's history budget", () => {
  const shipped = () =>
    JSON.parse(
      readFileSync(new URL('../../statemachine/organization.asl.json', import.meta.url), 'utf8'),
    ) as AslStates;

  it('does not grow with the targets: every Map runs its iterations as child executions', () => {
    // Prepare
    const definition = shipped();

    // Act
    const budget = organizationHistoryBudget(definition);

    // Assess
    const maps = Object.values(definition.States).filter((s) => s.Type === 'Map');
    expect(maps.map((m) => m.ItemProcessor?.ProcessorConfig?.Mode)).toEqual(Array(4).fill('DISTRIBUTED'));
    expect(budget.perTarget).toBe(0);
    expect(budget.fixed).toBeLessThan(200);
    expect(organizationHistoryProblem(budget, 1_000)).toBeNull();
  });

  it('counts one iteration of every INLINE Map per target, and refuses what would not fit', () => {
    // Prepare: the same definition with its Maps inline (as it was before it fanned out).
    const definition = shipped();
    const inline: AslStates = {
      ...definition,
      States: Object.fromEntries(
        Object.entries(definition.States).map(([name, state]) => [
          name,
          state.ItemProcessor
            ? { ...state, ItemProcessor: { ...state.ItemProcessor, ProcessorConfig: { Mode: 'INLINE' } } }
            : state,
        ]),
      ),
    };

    // Act
    const budget = organizationHistoryBudget(inline);

    // Assess
    expect(budget.perTarget).toBeGreaterThan(4 * 2 * 4); // each iteration: its events and a child start
    const fits = Math.floor((25_000 - budget.fixed) / budget.perTarget);
    expect(organizationHistoryProblem(budget, fits)).toBeNull();
    expect(organizationHistoryProblem(budget, fits + 1)).toMatch(
      new RegExp(`^${fits + 1} targets could take [\\d,]+ history events .* past Step Functions' 25,000`),
    );
  });
});

describe("the organization run's state", () => {
  it('holds 100 accounts × 5 regions at the longest run id; refuses 1,000 accounts × 1 region', () => {
    // Prepare
    const regions = ['eu-west-1', 'eu-central-1', 'us-east-1', 'us-west-2', 'ap-southeast-2'];
    const ids = (n: number) => Array.from({ length: n }, (_, i) => String(100_000_000_000 + i));
    const cross = (accounts: string[], inRegions: string[]) =>
      accounts.flatMap((a) => inRegions.map((r) => target(a, r)));

    // Act
    const fits = worstCaseOrganizationState(cross(ids(100), regions));
    const over = worstCaseOrganizationState(cross(ids(1_000), [EU]));

    // Assess
    expect(organizationStateBytes(fits)).toBeLessThanOrEqual(256 * 1024);
    expect(organizationPayloadProblem(fits)).toBeNull();
    expect(organizationPayloadProblem(over)).toMatch(
      /^1000 targets could make the organization run's state \d+ KiB/,
    );
  });
});
