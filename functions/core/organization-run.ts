/**
 * An organization run: one parent execution, one target run per account and region, each a run
 * of its own in the ledger (items, plan, plan hash, lock) started as a child execution once per
 * phase. Pure: names, which targets a run plans and reads, and the parent's history budget.
 */
import {
  type AslStates,
  HISTORY_EVENT_LIMIT,
  historyBudget,
  PAYLOAD_LIMIT_BYTES,
  STATE_ERROR_BYTES,
  STATE_SMALL_RESULTS_BYTES,
} from './quotas.ts';
import { compareTargets, EXECUTION_NAME_MAX_LENGTH, type Target, targetExecutionName } from './target.ts';

/** The phases a target run is started in, one child execution each. */
export const TARGET_PHASES = ['plan', 'delete', 'close'] as const;
export type TargetPhase = (typeof TARGET_PHASES)[number];

/**
 * A target as the parent's Maps carry it: account, region and its run id, nothing more (the
 * parent's state holds one per target, twice, within 256 KiB). The child execution names are
 * built from the run id in the definition (`States.Format('{}-plan', $.target.runId)`), and the
 * handlers rebuild everything else from account and region, never trusting the state.
 */
export interface PlannedTarget {
  readonly accountId: string;
  readonly region: string;
  readonly runId: string;
}

/** The longest phase suffix (`-delete`): a target run id leaves room for it in an execution name. */
const PHASE_SUFFIX_MAX_LENGTH = Math.max(...TARGET_PHASES.map((phase) => phase.length + 1));

/** The target run's id: starts with the target key (the console and the ledger say which one). */
export function targetRunId(each: Target, parentRunId: string): string {
  return targetExecutionName(each, parentRunId, EXECUTION_NAME_MAX_LENGTH - PHASE_SUFFIX_MAX_LENGTH);
}

/** The child execution of one phase of a target run: its run id and the phase. */
export function targetPhaseExecutionName(each: Target, parentRunId: string, phase: TargetPhase): string {
  return `${targetRunId(each, parentRunId)}-${phase}`;
}

export function plannedTarget(each: Target, parentRunId: string): PlannedTarget {
  return { accountId: each.accountId, region: each.region, runId: targetRunId(each, parentRunId) };
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
  /** Events of the parent outside its INLINE Maps' iterations (a DISTRIBUTED Map's 4 included). */
  readonly fixed: number;
  /** Events one target adds to the parent: one iteration of every INLINE Map (0 when all are DISTRIBUTED). */
  readonly perTarget: number;
}

/**
 * The parent's worst case, from its definition. A DISTRIBUTED Map runs each iteration as a child
 * execution of its own history, so it adds its own 4 events to the parent whatever the number of
 * targets; an INLINE Map adds one iteration per target.
 */
export function organizationHistoryBudget(definition: AslStates): OrganizationBudget {
  const { fixed } = historyBudget(definition);
  let perTarget = 0;
  for (const state of Object.values(definition.States)) {
    const inner = state.ItemProcessor ?? state.Iterator;
    if (!inner || state.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED') continue;
    // A Map iteration alone is budgeted like a definition: 2 iteration events + its longest path.
    perTarget += historyBudget(inner).fixed;
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

/** What ResolveTargets puts in the parent's state, the part that grows with the targets. */
export interface OrganizationState {
  readonly run: unknown;
  readonly childInput: unknown;
  readonly targets: readonly PlannedTarget[];
  readonly referenceTargets: readonly Pick<Target, 'accountId' | 'region'>[];
}

/**
 * The parent's caught error, held twice on the FAILED path (`$.error` and `$.finalize.error`:
 * STATE_ERROR_BYTES), and its small results (plan key and hash, the approval with its approver,
 * the outcome, FinalizeOrganizationRun's sums: never its one line a target).
 */
export const ORGANIZATION_RESERVED_BYTES = STATE_ERROR_BYTES + STATE_SMALL_RESULTS_BYTES;

/**
 * The run context assumed at synth, twice (the run and the children's input). A real one is
 * under 1 KiB with the default settings; ResolveTargets measures the real one at run time.
 */
export const ORGANIZATION_RUN_CONTEXT_BYTES = 4 * 1024;

const encoder = new TextEncoder();
const bytesOf = (value: unknown): number => encoder.encode(JSON.stringify(value)).length;

/** The parent's largest state: ResolveTargets' result, `$.plan.awaiting` (every target again at most) and the reserve. */
export function organizationStateBytes(state: OrganizationState): number {
  return bytesOf(state) + bytesOf(state.targets) + ORGANIZATION_RESERVED_BYTES;
}

/** Null when the parent's state fits in 256 KiB in the worst case; otherwise why. Refused, never cut. */
export function organizationPayloadProblem(state: OrganizationState): string | null {
  const bytes = organizationStateBytes(state);
  if (bytes <= PAYLOAD_LIMIT_BYTES) return null;
  const kib = Math.ceil(bytes / 1024);
  return `${state.targets.length} targets could make the organization run's state ${kib} KiB, past Step Functions' 256 KiB; select fewer accounts or regions, or deploy one hub per group of accounts`;
}

/**
 * The worst case of `targets` before any run exists (the construct's synth): the longest run id
 * (80 characters) and a run context of `runBytes`, given twice (the run and the children's input).
 */
export function worstCaseOrganizationState(
  targets: readonly Target[],
  runBytes: number = ORGANIZATION_RUN_CONTEXT_BYTES,
): OrganizationState {
  const context = 'x'.repeat(runBytes);
  const longestRunId = 'x'.repeat(EXECUTION_NAME_MAX_LENGTH);
  return {
    run: context,
    childInput: context,
    targets: targets.map((each) => plannedTarget(each, longestRunId)),
    referenceTargets: targets.map(({ accountId, region }) => ({ accountId, region })),
  };
}
