/**
 * What the approval page answers besides the plan: every refusal (status, title, message), and
 * the answer for a link whose approval was already decided. Texts only; the handler
 * (`approval-page.ts`) decides which applies.
 */
import type { LinkFailure } from '../adapters/approval-link.ts';
import type { ApprovalDecision } from '../core/workflow.ts';
import { VOTE_PAGES } from './approvals-so-far.ts';

export type Refusal = { readonly status: number; readonly title: string; readonly message: string };

export const LINK_REFUSALS: Readonly<Record<LinkFailure, Refusal>> = {
  malformed: { status: 400, title: 'Invalid link', message: 'This approval link is incomplete or damaged.' },
  'bad-signature': {
    status: 403,
    title: 'Invalid link',
    message: 'This approval link is not valid. Use the link from the approval email as it was sent.',
  },
  expired: {
    status: 410,
    title: 'Approval expired',
    message: 'This approval has expired. Nothing will be deleted.',
  },
};

export const REFUSALS = {
  unknown: { status: 404, title: 'Approval not found', message: 'There is no approval for this link.' },
  used: {
    status: 409,
    title: 'Already used',
    message: 'This approval has already been used. Each approval link can be used once.',
  },
  planChanged: {
    status: 409,
    title: 'Plan changed',
    message:
      'The plan has changed since this page was shown. Nothing was approved; wait for a new approval email.',
  },
  expired: LINK_REFUSALS.expired,
  superseded: {
    status: 409,
    title: 'No longer waiting',
    message:
      'This run no longer waits for this approval: a newer request replaced it, or the run has ended. Use the link in the latest email.',
  },
  formToken: {
    status: 403,
    title: 'Invalid form',
    message: 'This form was not issued for this approval and plan. Open the link from the email again.',
  },
  badInput: { status: 400, title: 'Invalid form', message: 'Enter your name and choose Approve or Reject.' },
  badPage: {
    status: 400,
    title: 'Invalid page',
    message: 'The page number in this link is not valid. Open the link from the approval email again.',
  },
  contentType: {
    status: 415,
    title: 'Unsupported form',
    message: 'The form must be sent as a standard HTML form.',
  },
  tooLarge: { status: 413, title: 'Form too large', message: 'The form is larger than this page accepts.' },
  method: { status: 405, title: 'Method not allowed', message: 'Only GET and POST are accepted here.' },
  unconfirmed: {
    status: 202,
    title: 'Decision sent',
    message:
      'Your decision was sent, but the workflow has not confirmed it yet. Do not press again; the run history shows the outcome in a few minutes.',
  },
  unavailable: {
    status: 503,
    title: 'Try again',
    message: 'The workflow could not be reached, so your decision was not recorded. Try again in a minute.',
  },
  ...VOTE_PAGES,
  failed: {
    status: 500,
    title: 'Something went wrong',
    message: 'The page could not be processed. Nothing was approved or deleted. Try again later.',
  },
} as const satisfies Record<string, Refusal>;

/** What the ledger recorded for a decided approval (the approver is the person's own text). */
export interface RecordedDecision {
  readonly decision: ApprovalDecision;
  readonly approver: string;
  readonly decidedAt: string;
  readonly expiresAt: string;
}

/**
 * The answer to a link re-opened or re-pressed after its decision: the decision itself, and
 * whether the workflow is known to have it. 409 either way (this request decided nothing), with
 * the facts instead of a bare "already used"; 202 while the workflow has not confirmed it.
 */
export function decidedAnswer(recorded: RecordedDecision, received: boolean): Refusal {
  const verb = recorded.decision === 'APPROVED' ? 'approved' : 'rejected';
  const fact = `This approval has already been used: ${verb} by ${recorded.approver} at ${recorded.decidedAt}.`;
  if (received) {
    const effect =
      recorded.decision === 'APPROVED'
        ? 'The workflow received the approval and deletes what the plan lists.'
        : 'The workflow received the rejection; nothing will be deleted.';
    return {
      status: 409,
      title: recorded.decision === 'APPROVED' ? 'Already approved' : 'Already rejected',
      message: `${fact} ${effect} Nothing was changed now.`,
    };
  }
  return {
    status: 202,
    title: 'Decision not confirmed',
    message: `${fact} The workflow has not confirmed it yet. If it does not by ${recorded.expiresAt}, the approval expires and nothing is deleted. The run history shows the outcome.`,
  };
}
