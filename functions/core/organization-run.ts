/**
 * An organization run: one parent execution, one target run per account and region, each a run
 * of its own in the ledger (items, plan, plan hash, lock) started as a child execution once per
 * phase. Pure: names, which targets a run plans and reads, and the parent's history budget.
 */
import { type AslStates, HISTORY_EVENT_LIMIT, historyBudget } from './quotas.ts';
import { compareTargets, type Target, targetExecutionName } from './target.ts';

/** The phases a target run is started in, one child execution each. */
export const TARGET_PHASES = ['plan', 'delete', 'close'] as const;
export type TargetPhase = (typeof TARGET_PHASES)[number];

/** A target as the parent's Maps carry it: its run id and its child execution names. */
export interface PlannedTarget {
  readonly accountId: string;
  readonly region: string;
  readonly key: string;
  readonly runId: string;
  readonly names: Readonly<Record<TargetPhase, string>>;
}

/** The target run's id: starts with the target key (the console and the ledger say which one). */
export function targetRunId(each: Target, parentRunId: string): string {
  return targetExecutionName(each, parentRunId);
}

/** The child execution of one phase of a target run. */
export function targetPhaseExecutionName(each: Target, parentRunId: string, phase: TargetPhase): string {
  return targetExecutionName(each, `${parentRunId}-${phase}`);
}

export function plannedTarget(each: Target, parentRunId: string): PlannedTarget {
  return {
    accountId: each.accountId,
    region: each.region,
    key: each.key,
    runId: targetRunId(each, parentRunId),
    names: {
      plan: targetPhaseExecutionName(each, parentRunId, 'plan'),
      delete: targetPhaseExecutionName(each, parentRunId, 'delete'),
      close: targetPhaseExecutionName(each, parentRunId, 'close'),
    },
  };
}

export class TargetScopeError extends Error {
  override readonly name = 'TargetScopeError';
}

export interface RunScope {
  /** Targets planned (and, once approved, cleaned). */
  readonly plan: readonly Target[];
  /**
   * Targets whose references are collected for the others: every target of a region that has
   * more than one target account (a lone account's references are read by its own inventory).
   */
  readonly references: readonly Target[];
}

/**
 * Which targets a run plans and which it reads references from. A run triggered by a new AMI is
 * scoped to that AMI's target, but its in-use check still counts every consumer of its region.
 */
export function runScope(targets: readonly Target[], only?: Target): RunScope {
  const sorted = [...targets].sort(compareTargets);
  if (only && !sorted.some((t) => t.key === only.key))
    throw new TargetScopeError(
      `account ${only.accountId} in ${only.region} is not one of this deployment's targets`,
    );
  const plan = only ? sorted.filter((t) => t.key === only.key) : sorted;
  const regions = new Set(plan.map((t) => t.region));
  const perRegion = new Map<string, number>();
  for (const t of sorted) perRegion.set(t.region, (perRegion.get(t.region) ?? 0) + 1);
  const references = sorted.filter((t) => regions.has(t.region) && (perRegion.get(t.region) ?? 0) > 1);
  return { plan, references };
}

export interface OrganizationBudget {
  /** Events of the parent outside its Maps' iterations. */
  readonly fixed: number;
  /** Events one target adds: one iteration of every Map (a target can go through all of them). */
  readonly perTarget: number;
}

/** The parent's worst case, from its definition: every Map iterates once per target. */
export function organizationHistoryBudget(definition: AslStates): OrganizationBudget {
  const { fixed } = historyBudget(definition);
  let perTarget = 0;
  for (const state of Object.values(definition.States)) {
    const inner = state.ItemProcessor ?? state.Iterator;
    // A Map iteration alone is budgeted like a definition: 2 iteration events + its longest path.
    if (inner) perTarget += historyBudget(inner).fixed;
  }
  return { fixed, perTarget };
}

/**
 * Null when `targets` fit the parent's history; otherwise why. The selection is then refused,
 * never cut: a target left out silently would keep its AMIs and hide its references.
 */
export function organizationHistoryProblem(budget: OrganizationBudget, targets: number): string | null {
  const worst = budget.fixed + budget.perTarget * targets;
  if (worst <= HISTORY_EVENT_LIMIT) return null;
  return `${targets} targets could take ${worst.toLocaleString('en-US')} history events in the organization run (${budget.fixed} + ${budget.perTarget} per target), past Step Functions' ${HISTORY_EVENT_LIMIT.toLocaleString('en-US')}; select fewer accounts or regions, or deploy one hub per group of accounts`;
}
