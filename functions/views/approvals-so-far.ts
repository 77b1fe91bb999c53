/**
 * Named approvers on the approval page: who has approved this plan so far, and how many more
 * approvals it needs. Kept apart from the plan's rendering (`approval-page.ts`).
 */
import type { Tally, Vote } from '../core/approvers.ts';
import { escapeHtml } from './html.ts';
import { pluralText as plural } from './plain-text.ts';

export interface ApprovalsSoFarModel {
  readonly tally: Tally;
  readonly votes: Readonly<Record<string, Vote>>;
  /** The address the page was opened for (its personal link). */
  readonly viewer: string;
}

/** The approval page's refusals that only named approvers meet. */
export const VOTE_PAGES = {
  personalLinkNeeded: {
    status: 403,
    title: 'Invalid link',
    message: 'This approval is decided by named approvers. Use the personal link sent to your address.',
  },
  notAnApprover: {
    status: 403,
    title: 'Not an approver',
    message: 'This link was not sent to an approver of this plan. Nothing was approved.',
  },
  alreadyVoted: {
    status: 409,
    title: 'Already decided',
    message:
      'You have already decided on this plan. Each approver decides once; another approver must approve too.',
  },
  rejectedByAnother: {
    status: 409,
    title: 'Already rejected',
    message: 'Another approver has rejected this plan; the run ends and nothing will be deleted.',
  },
} as const;

/** The section above the decision form. */
export function renderApprovalsSoFar(model: ApprovalsSoFarModel): string {
  const { tally, votes, viewer } = model;
  const rows = tally.approvedBy.map((address) => {
    const vote = votes[address];
    return `<li><strong>${escapeHtml(address)}</strong> approved at ${escapeHtml(vote?.decidedAt ?? '')}${
      address === viewer ? ' (you)' : ''
    }</li>`;
  });
  const missing = Math.max(0, tally.required - tally.approvedBy.length);
  return [
    '<section id="approvals">',
    '<h2>Approvals so far</h2>',
    `<p>This plan is deleted only after ${escapeHtml(plural(tally.required, 'different approver'))} approve it; one rejection ends the run.</p>`,
    rows.length > 0 ? `<ul>\n${rows.join('\n')}\n</ul>` : '<p>No one has approved this plan yet.</p>',
    `<p>${escapeHtml(missing === 0 ? 'No more approvals needed.' : `${plural(missing, 'more approval')} needed.`)}</p>`,
    `<p>You are deciding as <strong>${escapeHtml(viewer)}</strong>, the address this link was sent to; the name you type is recorded as a comment.</p>`,
    '</section>',
  ].join('\n');
}

/** The answer to a vote that was recorded but did not reach the quorum. */
export function recordedVoteMessage(tally: Tally, viewer: string): string {
  const missing = Math.max(0, tally.required - tally.approvedBy.length);
  return `Your approval as ${viewer} is recorded (${tally.approvedBy.length} of ${tally.required}: ${tally.approvedBy.join(
    ', ',
  )}). Nothing is deleted until ${plural(missing, 'more approver')} ${missing === 1 ? 'approves' : 'approve'} the same plan.`;
}
