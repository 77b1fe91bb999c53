/**
 * What the approval page reads for a GET or POST: the run's plan from its one source (the
 * workspace), verified against the approved hash over every target, and the `page` parameter.
 */
import type { ApprovalRecord, RunRecord } from '../adapters/ledger/index.ts';
import { type RunWorkspace, WorkspaceKeyNotFoundError } from '../adapters/workspace.ts';
import type { Plan } from '../core/model.ts';
import { hashPlanDeletion, PlanShapeError } from '../core/plan-targets.ts';

/**
 * The plan the page shows, from one source (the workspace), and only if the deletion set it
 * renders hashes to the approved plan hash, which the run recorded too. Anything else (a plan
 * rewritten, missing, or bound to another hash) is undefined: the page refuses it.
 */
export async function loadVerifiedPlan(
  deps: { readonly workspace: RunWorkspace; readonly region?: string },
  approval: ApprovalRecord,
  run: RunRecord,
): Promise<Plan | undefined> {
  if (run.planHash !== approval.planHash) return undefined;
  let plan: Plan;
  try {
    plan = await deps.workspace.getJson<Plan>(approval.planKey);
  } catch (error) {
    if (error instanceof WorkspaceKeyNotFoundError) return undefined;
    throw error;
  }
  if (
    plan.planHash !== approval.planHash ||
    !Array.isArray(plan.groups) ||
    !Array.isArray(plan.orphanSnapshots) ||
    (plan.targets !== undefined && !Array.isArray(plan.targets))
  )
    return undefined;
  // One target: it must be this deployment's region. Many: the hub plans every region listed.
  if (deps.region !== undefined && plan.targets === undefined && plan.region !== deps.region)
    return undefined;
  const capped: Plan = { ...plan, maxDeletionsPerRun: plan.maxDeletionsPerRun ?? run.maxDeletionsPerRun };
  try {
    return hashPlanDeletion(capped) === approval.planHash ? capped : undefined;
  } catch (error) {
    // Rows that do not say consistently where they delete: the plan was not written by planning.
    if (error instanceof PlanShapeError) return undefined;
    throw error;
  }
}

/** `page`: absent is 1; otherwise once, a whole number from 1 written plainly. Anything else is undefined. */
export function parsePage(query: URLSearchParams): number | undefined {
  const values = query.getAll('page');
  if (values.length === 0) return 1;
  const [value] = values;
  if (values.length > 1 || value === undefined || !/^[1-9][0-9]{0,8}$/.test(value)) return undefined;
  return Number(value);
}

export function noSuchPage(pageCount: number): {
  readonly status: number;
  readonly title: string;
  readonly message: string;
} {
  return {
    status: 404,
    title: 'No such page',
    message: `This plan has ${pageCount} page${pageCount === 1 ? '' : 's'}. Open the link from the approval email again.`,
  };
}
