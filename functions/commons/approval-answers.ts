/**
 * What the state of an approval means for the link that names it: a decided approval answers its
 * decision, an expired link of a decided approval too, a personal link must name one of the
 * approval's approvers, and a refused vote maps to the page it shows. The page's handler
 * (`functions/approval-page.ts`) decides nothing here; it only asks.
 */
import type { LinkFailure } from '../adapters/approval-link.ts';
import type { ApprovalRecord, Ledger, RunRecord, VoteRefusal } from '../adapters/ledger/index.ts';
import { tallyVotes } from '../core/approvers.ts';
import type { ApprovalDecision } from '../core/workflow.ts';
import { decidedAnswer, LINK_REFUSALS, REFUSALS, type Refusal } from '../views/approval-answers.ts';
import { renderApprovalsSoFar } from '../views/approvals-so-far.ts';
import { actedOn, runAfterDelivery } from './approval-delivery.ts';

export interface AnswerDeps {
  readonly ledger: Pick<Ledger, 'getApproval' | 'getRun'>;
  /** Waits between re-reads of the run (tests pass one that returns at once). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * A link whose signature is valid but whose time ran out may belong to an approval that was
 * decided in time: that decision is the truth, not "expired, nothing will be deleted".
 */
export async function expiredLinkAnswer(
  deps: AnswerDeps,
  reason: LinkFailure,
  approvalId: string | null,
): Promise<Refusal> {
  if (reason !== 'expired' || !approvalId) return LINK_REFUSALS[reason];
  const approval = await deps.ledger.getApproval(approvalId);
  return approval && isDecided(approval) ? await decidedRefusal(deps, approval) : LINK_REFUSALS[reason];
}

export function isDecided(approval: ApprovalRecord): boolean {
  return approval.status === 'APPROVED' || approval.status === 'REJECTED';
}

/**
 * What a decided approval's link answers: the recorded decision, received by the workflow if the
 * page saw it delivered or the run has acted on it (re-read while the run still waits, as after a
 * spent token), otherwise not yet confirmed. A GET reads only; nothing is re-sent.
 */
export async function decidedRefusal(deps: AnswerDeps, approval: ApprovalRecord): Promise<Refusal> {
  const decision = approval.status as ApprovalDecision;
  const recorded = {
    decision,
    approver: approval.approver ?? 'an unnamed approver',
    decidedAt: approval.decidedAt ?? 'an unrecorded time',
    expiresAt: approval.expiresAt,
  };
  if (approval.deliveredAt !== undefined) return decidedAnswer(recorded, true);
  const run = await runAfterDelivery(
    { getRun: (runId) => deps.ledger.getRun(runId), ...(deps.sleep ? { sleep: deps.sleep } : {}) },
    approval.runId,
  );
  if (run?.approvalId === approval.approvalId && actedOn(run.status, decision))
    return decidedAnswer(recorded, true);
  // The run ended without acting on it (it expired, or was stopped): that is what the link says.
  if (run && !awaits(run, approval)) return REFUSALS.superseded;
  return decidedAnswer(recorded, false);
}

/** The run is waiting, and waiting for this very approval (a retried request replaces it). */
export function awaits(run: RunRecord, approval: ApprovalRecord): boolean {
  return run.status === 'AWAITING_APPROVAL' && run.approvalId === approval.approvalId;
}

/**
 * A personal link (`r`) belongs to an approval with named approvers, and names one of them; the
 * shared link belongs to an approval without. Anything else is refused before any decision.
 */
export function checkPersonalLink(
  approval: ApprovalRecord | undefined,
  approver: string | undefined,
): Refusal | undefined {
  if (!approval) return undefined;
  if (approval.approvers === undefined) return approver === undefined ? undefined : REFUSALS.notAnApprover;
  if (approver === undefined) return REFUSALS.personalLinkNeeded;
  return approval.approvers.includes(approver) ? undefined : REFUSALS.notAnApprover;
}

export function voteRefusal(reason: VoteRefusal): Refusal {
  const refusals: Readonly<Record<VoteRefusal, Refusal>> = {
    unknown: REFUSALS.unknown,
    'not-pending': REFUSALS.used,
    'not-an-approver': REFUSALS.notAnApprover,
    'plan-changed': REFUSALS.planChanged,
    expired: REFUSALS.expired,
    'already-voted': REFUSALS.alreadyVoted,
    contention: REFUSALS.unavailable,
  };
  return refusals[reason];
}

export function approvalsSoFar(approval: ApprovalRecord, viewer: string): string {
  const votes = approval.votes ?? {};
  const tally = tallyVotes(
    votes,
    approval.approvers ?? [],
    approval.requiredApprovals ?? 1,
    approval.planHash,
  );
  return renderApprovalsSoFar({ tally, votes, viewer });
}

export function checkApproval(approval: ApprovalRecord | undefined, now: Date): { refusal?: Refusal } {
  if (!approval) return { refusal: REFUSALS.unknown };
  if (approval.status === 'EXPIRED') return { refusal: REFUSALS.expired };
  if (approval.status === 'REJECTED' && approval.approvers) return { refusal: REFUSALS.rejectedByAnother };
  if (approval.status !== 'PENDING') return { refusal: REFUSALS.used };
  if (Date.parse(approval.expiresAt) <= now.getTime()) return { refusal: REFUSALS.expired };
  return {};
}
