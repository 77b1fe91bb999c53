/**
 * Sends a decision the ledger has already recorded to the waiting workflow (SendTaskSuccess), and
 * says what became of it. Shared by the shared-link decision and the named approvers' quorum, so a
 * quorum is delivered with the same lost-response handling as a single decision: a spent token is
 * explained by the run before anything is claimed.
 */
import { SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { Ledger, RunRecord, TaskToken } from '../adapters/ledger/index.ts';
import type { ApprovalDecision, ApprovalResult, RunStatus } from '../core/workflow.ts';

/** Re-reads of the run after a spent token, one a second: the workflow records its move within seconds. */
const CONFIRM_ATTEMPTS = 10;
const CONFIRM_INTERVAL_MS = 1000;
/** SendTaskSuccess errors meaning the workflow no longer waits for this token. */
const TOKEN_GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

export type Delivery =
  /** SendTaskSuccess answered; settle the approval. */
  | { readonly outcome: 'delivered' }
  /** The token was spent by an earlier attempt of this very call; the run shows it acted. Settle. */
  | { readonly outcome: 'delivered-earlier' }
  /** The token is spent but the run still waits: do not claim either way. */
  | { readonly outcome: 'unconfirmed'; readonly error: string }
  /** The workflow no longer waits: expire the approval. */
  | { readonly outcome: 'expired'; readonly error: string }
  /** Not delivered (service unreachable): reopen, so the person can press again. */
  | { readonly outcome: 'unavailable'; readonly error: string };

export interface DeliveryDeps {
  readonly sfn: SFNClient;
  readonly getRun: (runId: string) => Promise<RunRecord | undefined>;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Delivers, then records what became of it in the approval: settled (the token leaves the
 * ledger), expired, or reopened (`reopen`, so the person can press again).
 */
export async function deliverAndRecord(
  deps: { readonly sfn: SFNClient; readonly ledger: Ledger; readonly sleep?: (ms: number) => Promise<void> },
  approval: { readonly approvalId: string; readonly runId: string },
  result: ApprovalResult,
  use: { readonly taskToken: TaskToken; readonly useId: string },
  reopen: () => Promise<boolean>,
): Promise<Delivery> {
  const delivery = await deliverDecision(
    {
      sfn: deps.sfn,
      getRun: (runId) => deps.ledger.getRun(runId),
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
    },
    approval.runId,
    use.taskToken,
    result,
  );
  if (delivery.outcome === 'delivered' || delivery.outcome === 'delivered-earlier')
    await deps.ledger.settleApproval(approval.approvalId, use.useId);
  else if (delivery.outcome === 'expired') await deps.ledger.expireApproval(approval.approvalId);
  else if (delivery.outcome === 'unavailable') await reopen();
  return delivery;
}

export async function deliverDecision(
  deps: DeliveryDeps,
  runId: string,
  taskToken: TaskToken,
  result: ApprovalResult,
): Promise<Delivery> {
  try {
    await deps.sfn.send(
      new SendTaskSuccessCommand({ taskToken: taskToken.reveal(), output: JSON.stringify(result) }),
    );
    return { outcome: 'delivered' };
  } catch (error) {
    // Only the error's name leaves here: an SDK error can echo request parts.
    const name = error instanceof Error ? error.name : 'UnknownError';
    if (!TOKEN_GONE.has(name)) return { outcome: 'unavailable', error: name };
    // The token is spent: either the wait ended, or an earlier attempt of this very call was
    // delivered and only its answer was lost. The run says which, once it has moved on.
    const after = await runAfterDelivery(deps, runId);
    if (after && actedOn(after.status, result.decision)) return { outcome: 'delivered-earlier' };
    // Not moved on yet: claiming "expired" could be false while the run deletes.
    if (after?.status === 'AWAITING_APPROVAL') return { outcome: 'unconfirmed', error: name };
    return { outcome: 'expired', error: name };
  }
}

/** The run, re-read until it leaves AWAITING_APPROVAL (the workflow acts within seconds) or the tries run out. */
export async function runAfterDelivery(
  deps: Pick<DeliveryDeps, 'getRun' | 'sleep'>,
  runId: string,
): Promise<RunRecord | undefined> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let run = await deps.getRun(runId);
  for (let attempt = 1; attempt < CONFIRM_ATTEMPTS && run?.status === 'AWAITING_APPROVAL'; attempt += 1) {
    await sleep(CONFIRM_INTERVAL_MS);
    run = await deps.getRun(runId);
  }
  return run;
}

/** Statuses a run reaches only once the workflow received this decision. */
export function actedOn(status: RunStatus, decision: ApprovalDecision): boolean {
  if (decision === 'REJECTED') return status === 'REJECTED';
  return status === 'DELETING' || status === 'COMPLETED' || status === 'COMPLETED_WITH_FAILURES';
}
