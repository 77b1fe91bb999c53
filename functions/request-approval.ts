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
import { inertText } from './views/plain-text.ts';

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
  readonly logger?: HandlerLogger;
}

/** The event is malformed, or the plan it names is not the one recorded for the run. Nothing was sent. */
export class ApprovalRequestError extends Error {
  override readonly name = 'ApprovalRequestError';
}

const SUBJECT_MAX = 100;

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
    const deferred = (await deps.ledger.listItems(run.runId)).filter(
      (item) => item.status === 'DEFERRED',
    ).length;
    const sign = (approver?: string) =>
      signApprovalLink({
        baseUrl: deps.baseUrl,
        approvalId,
        expiresAt,
        key,
        ...(approver ? { approver } : {}),
      });
    if (!deps.approvers) {
      const email = renderApprovalEmail(plan, sign(), expiresAt, { runId: run.runId, deferred });
      await deps.sns.send(
        new PublishCommand({ TopicArn: deps.topicArn, Subject: email.subject, Message: email.message }),
      );
    }
    // One publish per approver, each carrying only that approver's link: a subscription accepts
    // a message only when its `approver` attribute equals the subscriber's own address.
    for (const approver of deps.approvers ?? []) {
      const email = renderApprovalEmail(plan, sign(approver), expiresAt, {
        runId: run.runId,
        deferred,
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
// Email
// ---------------------------------------------------------------------------------------------

export interface ApprovalEmail {
  /** At most 100 ASCII characters on one line (SNS's limits for email subjects). */
  readonly subject: string;
  readonly message: string;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const gib = (n: number): string => `${Number.isInteger(n) ? n : n.toFixed(1)}`;

/** Plain-text email: a summary, the link, its expiry, and what pressing the link does (nothing yet). */
export function renderApprovalEmail(
  plan: Plan,
  link: string,
  expiresAt: Date,
  options: { runId?: string; deferred?: number; approver?: string; requiredApprovals?: number } = {},
): ApprovalEmail {
  const t = plan.totals;
  const what =
    t.orphanSnapshots > 0
      ? `${plural(t.candidates, 'AMI')} and ${plural(t.orphanSnapshots, 'orphan snapshot')}`
      : plural(t.candidates, 'AMI');
  const subject = oneLine(`ami-cleaner: approve deleting ${what} in ${plan.region}`, SUBJECT_MAX);

  const rows = plan.groups
    .filter((group) => group.candidates.length > 0)
    .map((group) => [
      inertText(group.name),
      String(group.candidates.length),
      String(group.kept.length),
      gib(group.candidates.flatMap((c) => c.snapshots).reduce((sum, s) => sum + s.sizeGiB, 0)),
    ]);
  const header = ['Group', 'AMIs to delete', 'Kept', 'GiB'];
  const total = ['Total', String(t.candidates), String(t.kept), gib(t.candidateSizeGiB)];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...[...rows, total].map((r) => (r[i] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');

  const lines = [
    `An ami-cleaner run in ${plan.region} wants to delete ${what}.`,
    ...(options.runId ? [`Run: ${options.runId}`] : []),
    `Plan hash: ${plan.planHash}`,
    '',
    line(header),
    rule,
    ...(rows.length > 0 ? rows.map(line) : ['(no AMIs to delete)']),
    rule,
    line(total),
    '',
    `Snapshots of these AMIs: ${t.candidateSnapshots} (${gib(t.candidateSizeGiB)} GiB)`,
    `Orphan snapshots: ${t.orphanSnapshots} (${gib(t.orphanSizeGiB)} GiB)`,
    ...(options.deferred
      ? [
          `${plural(options.deferred, 'item')} ${options.deferred === 1 ? 'exceeds' : 'exceed'} the per-run deletion limit and will be left for a later run.`,
        ]
      : []),
    '',
    ...(options.approver
      ? [
          `This link is yours alone: a decision made with it is recorded as ${options.approver}.`,
          `The plan is deleted only after ${plural(options.requiredApprovals ?? 1, 'different approver')} approve it; one rejection ends the run.`,
          '',
        ]
      : []),
    'Review the plan, then approve or reject it:',
    link,
    '',
    'The link opens a review page. Nothing is deleted until you press Approve on that page.',
    `The link expires at ${expiresAt.toISOString()} (UTC). If nobody approves by then, nothing is deleted.`,
    'Do not forward this email: anyone with the link can approve.',
  ];
  return { subject, message: `${lines.join('\n')}\n` };
}

/** SNS refuses email subjects over 100 characters, with line breaks, or with non-ASCII text. */
function oneLine(text: string, max: number): string {
  const flat = text.replace(/[\r\n\t]+/g, ' ').replace(/[^\x20-\x7e]/g, '?');
  return flat.length <= max ? flat : `${flat.slice(0, max - 3)}...`;
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
    logger: createLogger('request-approval'),
  }),
);
