/**
 * The approval a run's deletions are bound to, checked by content before anything is marked.
 *
 * A run of its own: its recorded plan hash, the ledger's APPROVED approval of that very hash
 * (and the named approvers' quorum), and the hash the workflow state carries must all agree.
 *
 * A target run of an organization run has no approval of its own: one approval covers the
 * parent's plan. The chain is checked link by link: the parent's APPROVED approval (and quorum)
 * is of the parent's recorded plan hash; the parent's plan document hashes to it
 * (`hashPlanDeletion`); that plan's share for this target hashes to the target run's own recorded
 * plan hash, the one its ledger items are bound to. An id moved between targets, a plan swapped
 * in the workspace, or an approval of another run breaks one of the links.
 */

import type { Ledger } from '../adapters/ledger/index.ts';
import type { RunWorkspace } from '../adapters/workspace.ts';
import { tallyVotes } from '../core/approvers.ts';
import { hashDeletionSet } from '../core/deletion-set.ts';
import type { Plan } from '../core/model.ts';
import { deletionSetsByTarget, hashPlanDeletion } from '../core/plan-targets.ts';
import type { ApprovalResult, RunContext } from '../core/workflow.ts';

/** The approval does not cover this run's recorded plan. Nothing was marked approved. */
export class ApprovalMismatchError extends Error {
  override readonly name = 'ApprovalMismatchError';
}

export interface ApprovalCheckDeps {
  readonly ledger: Pick<Ledger, 'getRun' | 'getApproval'>;
  readonly workspace: Pick<RunWorkspace, 'getJson'>;
}

/**
 * Checks that `approval` (from the workflow state) is an APPROVED decision that covers the run's
 * recorded plan `planHash`, and returns who approved (the ledger's record first).
 */
export async function verifyRunApproval(
  deps: ApprovalCheckDeps,
  run: RunContext,
  planHash: string,
  approval: Record<string, unknown>,
): Promise<string | undefined> {
  const { runId } = run;
  if (run.dryRun) throw new ApprovalMismatchError(`run ${runId} is a dry run; nothing may be deleted`);
  if (approval.decision !== 'APPROVED')
    throw new ApprovalMismatchError(`run ${runId}: the decision is not APPROVED`);
  const recorded = await deps.ledger.getRun(runId);
  if (recorded?.planHash !== planHash) {
    throw new ApprovalMismatchError(
      `run ${runId} recorded plan ${recorded?.planHash ?? 'none'}, not ${planHash}`,
    );
  }
  const decidedHash = run.parentRunId === undefined ? planHash : String(approval.planHash);
  if (approval.planHash !== decidedHash) {
    throw new ApprovalMismatchError(`run ${runId}: the approval is for another plan than ${planHash}`);
  }
  const decidingRunId = run.parentRunId ?? runId;
  const deciding = run.parentRunId === undefined ? recorded : await deps.ledger.getRun(run.parentRunId);
  if (deciding?.planHash !== decidedHash) {
    throw new ApprovalMismatchError(`run ${decidingRunId} recorded another plan than the approved one`);
  }
  // The decision must also be the one the ledger recorded when the approval link was used.
  const stored = deciding.approvalId ? await deps.ledger.getApproval(deciding.approvalId) : undefined;
  if (stored?.status !== 'APPROVED' || stored.planHash !== decidedHash || stored.runId !== decidingRunId) {
    throw new ApprovalMismatchError(
      `run ${decidingRunId}: no APPROVED approval of plan ${decidedHash} in the ledger`,
    );
  }
  // Named approvers: the ledger's votes must make the quorum for this very plan hash.
  if (stored.approvers) {
    const tally = tallyVotes(
      stored.votes ?? {},
      stored.approvers,
      stored.requiredApprovals ?? 1,
      decidedHash,
    );
    if (!tally.reached)
      throw new ApprovalMismatchError(
        `run ${decidingRunId}: ${tally.approvedBy.length} of ${tally.required} approvals of plan ${decidedHash} in the ledger`,
      );
  }
  if (run.parentRunId !== undefined) {
    await verifyTargetShare(deps, run, planHash, decidedHash, deciding.planKey);
  }
  return stored.approver ?? (typeof approval.approver === 'string' ? approval.approver : undefined);
}

/** The parent's plan hashes to the approved hash, and its share for this target to the target run's own. */
async function verifyTargetShare(
  deps: ApprovalCheckDeps,
  run: RunContext,
  planHash: string,
  approvedHash: string,
  parentPlanKey: string | undefined,
): Promise<void> {
  const target = run.target;
  if (!target) throw new ApprovalMismatchError(`run ${run.runId} has a parent run but no target`);
  if (!parentPlanKey) throw new ApprovalMismatchError(`run ${run.parentRunId} recorded no plan`);
  const plan = await deps.workspace.getJson<Plan>(parentPlanKey);
  if (hashPlanDeletion(plan) !== approvedHash) {
    throw new ApprovalMismatchError(
      `the plan of run ${run.parentRunId} does not hash to the approved ${approvedHash}`,
    );
  }
  const share = deletionSetsByTarget(plan).filter(
    (each) => each.target.accountId === target.accountId && each.target.region === target.region,
  );
  const [only] = share;
  if (share.length !== 1 || !only || hashDeletionSet(only.set) !== planHash) {
    throw new ApprovalMismatchError(
      `the approved plan of run ${run.parentRunId} does not hold this target's plan ${planHash}`,
    );
  }
}

export type { ApprovalResult };
