/**
 * The local runner's `.waitForTaskToken`: the approval email's links handed to the person (or
 * test) at the terminal, then a wait on the simulated task token until the page settles it or the
 * Task's TimeoutSeconds pass, as Step Functions would.
 */
import type { LocalStack } from './local-stack.ts';

export interface ApprovalRequest {
  /** The (first) emailed link: the shared link, or the first named approver's personal link. */
  readonly link: string;
  /** Every emailed link: one shared link, or one personal link per named approver. */
  readonly links: readonly { readonly approver?: string; readonly link: string }[];
  readonly subject: string;
  readonly message: string;
  /**
   * Withdraws the request (SendTaskFailure `ApprovalWithdrawn`): the run ends WITHDRAWN, nothing
   * is deleted, a later click is refused. Returns false when a decision already arrived and there
   * was nothing left to withdraw.
   */
  readonly withdraw: () => boolean;
}

/** Raised into the runner when an approval wait passes TimeoutSeconds, as Step Functions would. */
class StatesTimeoutError extends Error {
  override readonly name = 'States.Timeout';
}

/** The last email the request-approval handler sent, and the link in it, for the person at the terminal. */
export function announceApproval(
  stack: LocalStack,
  onApprovalRequested: ((request: ApprovalRequest) => void) | undefined,
  token: string,
  emailsBefore: number,
): void {
  const emails = stack.control.published.slice(emailsBefore);
  const email = emails[0];
  if (!email) throw new Error('the approval request sent no email');
  const links = emails.map((sent) => {
    const link = /https?:\/\/\S+/.exec(sent.message)?.[0];
    if (!link) throw new Error('the approval email carries no link');
    const approver = sent.messageAttributes?.approver;
    return approver ? { approver, link } : { link };
  });
  onApprovalRequested?.({
    link: links[0]?.link ?? '',
    links,
    subject: email.subject ?? '',
    message: email.message,
    withdraw: () => {
      if (stack.control.taskTokens.status(token) !== 'PENDING') return false;
      stack.control.taskTokens.fail(token, 'ApprovalWithdrawn', 'the operator withdrew the approval request');
      return true;
    },
  });
}

/** The task token's settlement (SendTaskSuccess/Failure), or States.Timeout after `timeoutSeconds`. */
export async function waitForDecision(
  stack: LocalStack,
  token: string,
  timeoutSeconds: number | undefined,
): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<never>((_, reject) => {
    if (timeoutSeconds === undefined) return;
    timer = setTimeout(() => {
      // Expire the token first, so a late click on the page is refused as Step Functions would.
      stack.control.taskTokens.expire(token);
      reject(new StatesTimeoutError('the approval was not given in time'));
    }, timeoutSeconds * 1000);
  });
  try {
    return await Promise.race([stack.control.taskTokens.wait(token), expiry]);
  } catch (error) {
    if (error instanceof Error && error.name === 'States.Timeout')
      throw new StatesTimeoutError(error.message);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
