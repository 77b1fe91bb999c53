/**
 * RequestApproval (`lambda:invoke.waitForTaskToken`): stores the task token server-side under a
 * fresh approval id, marks the run AWAITING_APPROVAL and emails (SNS) a signed link to the review
 * page. The state then waits; only the approval page's POST resumes it. The token appears in
 * neither the link, the email, the logs nor this function's result.
 */
import { randomUUID } from 'node:crypto';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { signApprovalLink, signingKeysFromSecret } from './adapters/approval-link.ts';
import { clientConfig } from './adapters/clients.ts';
import type { Ledger } from './adapters/ledger/index.ts';
import type { RunWorkspace } from './adapters/workspace.ts';
import { lazyHandler, ledgerFromEnv, workspaceFromEnv } from './commons/deps.ts';
import { getApproversFromEnv, getNumberFromEnv, getStringFromEnv } from './commons/env.ts';
import { classifyFailures } from './commons/errors.ts';
import { createLogger, type HandlerLogger } from './commons/logger.ts';
import { APPROVER_ATTRIBUTE } from './core/approvers.ts';
import type { Plan } from './core/model.ts';
import type { RunContext } from './core/workflow.ts';
import { renderApprovalEmail } from './views/approval-email.ts';

export { type ApprovalEmail, renderApprovalEmail } from './views/approval-email.ts';

export interface RequestApprovalEvent {
  readonly run: RunContext;
  readonly planKey: string;
  readonly planHash: string;
  /** `$$.Task.Token`. */
  readonly taskToken: string;
}

export interface RequestApprovalResult {
  readonly approvalId: string;
  /** ISO-8601. */
  readonly expiresAt: string;
}

export interface RequestApprovalDeps {
  readonly ledger: Ledger;
  readonly workspace: RunWorkspace;
  readonly sns: SNSClient;
  readonly topicArn: string;
  /** The approval page's Function URL. */
  readonly baseUrl: string;
  readonly signingKey: () => Promise<string>;
  /**
   * Named approvers: each gets a personal link in a publish of their own, with the message
   * attribute `approver` that only their filtered subscription accepts. Default: one shared link.
   */
  readonly approvers?: readonly string[];
  /** Distinct approvals of the same plan needed (with `approvers`). Default 1. */
  readonly requiredApprovals?: number;
  /** How long the approval stays valid; equal to the state's TimeoutSeconds. */
  readonly timeoutSeconds: number;
  readonly now: () => Date;
  /** For the saving estimate in the email (the page's price). Default: the core's. */
  readonly pricePerGibMonth?: number;
  readonly logger?: HandlerLogger;
}

/** The event is malformed, or the plan it names is not the one recorded for the run. Nothing was sent. */
export class ApprovalRequestError extends Error {
  override readonly name = 'ApprovalRequestError';
}

export function createRequestApprovalHandler(
  deps: RequestApprovalDeps,
): (event: RequestApprovalEvent) => Promise<RequestApprovalResult> {
  // Throttles and 5xx of SNS, S3, DynamoDB and Secrets Manager become TransientAwsError, which the
  // state retries; a retried invocation mints a new approval id, and the run waits for the newest.
  return classifyFailures('RequestApproval', async (event) => {
    validate(event);
    const { run, planKey, planHash } = event;
    if (run.dryRun)
      throw new ApprovalRequestError(`run ${run.runId} is a dry run; it never asks for approval`);

    // Fail closed: the approval must be bound to the plan the ledger recorded for this run.
    const plan = await deps.workspace.getJson<Plan>(planKey);
    if (plan.planHash !== planHash) {
      throw new ApprovalRequestError(`plan at ${planKey} has hash ${plan.planHash}, expected ${planHash}`);
    }
    const recorded = await deps.ledger.getRun(run.runId);
    if (recorded?.planHash !== planHash) {
      throw new ApprovalRequestError(
        `run ${run.runId} recorded plan ${recorded?.planHash ?? 'none'}, not ${planHash}`,
      );
    }

    const now = deps.now();
    const approvalId = randomUUID();
    const expiresAt = new Date(now.getTime() + deps.timeoutSeconds * 1000);
    await deps.ledger.putApproval({
      approvalId,
      runId: run.runId,
      planHash,
      planKey,
      taskToken: event.taskToken,
      expiresAt,
      ...(deps.approvers
        ? { approvers: deps.approvers, requiredApprovals: deps.requiredApprovals ?? 1 }
        : {}),
    });
    const marked = await deps.ledger.updateRun(
      run.runId,
      { status: 'AWAITING_APPROVAL', approvalId, planKey },
      // A retried invocation finds the run already waiting.
      { from: ['RUNNING', 'AWAITING_APPROVAL'] },
    );
    if (!marked)
      throw new ApprovalRequestError(`run ${run.runId} is no longer running; no approval requested`);

    const key = await deps.signingKey();
    const sign = (approver?: string) =>
      signApprovalLink({
        baseUrl: deps.baseUrl,
        approvalId,
        expiresAt,
        key,
        ...(approver ? { approver } : {}),
      });
    // The cap the run admits under, as the page reads it (a plan written without one takes the run's).
    const capped = { ...plan, maxDeletionsPerRun: plan.maxDeletionsPerRun ?? run.maxDeletionsPerRun };
    const emailOptions = {
      runId: run.runId,
      ...(deps.pricePerGibMonth === undefined ? {} : { pricePerGibMonth: deps.pricePerGibMonth }),
    };
    if (!deps.approvers) {
      const email = renderApprovalEmail(capped, sign(), expiresAt, emailOptions);
      await deps.sns.send(
        new PublishCommand({ TopicArn: deps.topicArn, Subject: email.subject, Message: email.message }),
      );
    }
    // One publish per approver, each carrying only that approver's link: a subscription accepts
    // a message only when its `approver` attribute equals the subscriber's own address.
    for (const approver of deps.approvers ?? []) {
      const email = renderApprovalEmail(capped, sign(approver), expiresAt, {
        ...emailOptions,
        approver,
        requiredApprovals: deps.requiredApprovals ?? 1,
      });
      await deps.sns.send(
        new PublishCommand({
          TopicArn: deps.topicArn,
          Subject: email.subject,
          Message: email.message,
          MessageAttributes: { [APPROVER_ATTRIBUTE]: { DataType: 'String', StringValue: approver } },
        }),
      );
    }

    deps.logger?.info('approval requested', {
      approvalId,
      runId: run.runId,
      expiresAt: expiresAt.toISOString(),
    });
    return { approvalId, expiresAt: expiresAt.toISOString() };
  });
}

function validate(event: RequestApprovalEvent): void {
  const ok =
    typeof event === 'object' &&
    event !== null &&
    typeof event.run?.runId === 'string' &&
    typeof event.planKey === 'string' &&
    event.planKey.length > 0 &&
    typeof event.planHash === 'string' &&
    event.planHash.length > 0 &&
    typeof event.taskToken === 'string' &&
    event.taskToken.length > 0;
  // The message names the fields, never their values: one of them is the task token.
  if (!ok) throw new ApprovalRequestError('event must carry run.runId, planKey, planHash and taskToken');
}

// ---------------------------------------------------------------------------------------------
// Lambda entry point
// ---------------------------------------------------------------------------------------------

export const handler = lazyHandler(() =>
  createRequestApprovalHandler({
    ledger: ledgerFromEnv(),
    workspace: workspaceFromEnv(),
    sns: new SNSClient(clientConfig()),
    topicArn: getStringFromEnv('APPROVAL_TOPIC_ARN'),
    baseUrl: getStringFromEnv('APPROVAL_BASE_URL'),
    signingKey: signingKeysFromSecret(
      new SecretsManagerClient(clientConfig()),
      getStringFromEnv('APPROVAL_SIGNING_SECRET_ARN'),
    ).current,
    timeoutSeconds: getNumberFromEnv('APPROVAL_TIMEOUT_SECONDS', { integer: true, min: 1 }),
    ...getApproversFromEnv(),
    now: () => new Date(),
    pricePerGibMonth: getNumberFromEnv('SNAPSHOT_PRICE_PER_GIB_MONTH', { min: 0 }),
    logger: createLogger('request-approval'),
  }),
);
