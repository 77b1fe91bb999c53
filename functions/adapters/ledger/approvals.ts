import { randomUUID } from 'node:crypto';
/**
 * Approvals (`APPROVAL#<approvalId>` / `APPROVAL`): the task token is stored here and nowhere
 * else, and never returned except to the one caller that uses the approval.
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DecisionOrigin, Vote } from '../../core/approvers.ts';
import type { ApprovalDecision } from '../../core/workflow.ts';
import { conditionalWrite, isConditionFailure } from './conditional-write.ts';
import { PlanConflictError } from './errors.ts';
import { epochSeconds } from './expressions.ts';
import {
  APPROVAL_RETENTION_SECONDS,
  APPROVAL_SK,
  approvalPk,
  type DocItem,
  LEDGER_TTL_ATTRIBUTE,
  type LedgerOptions,
  type LedgerTable,
  ledgerTable,
} from './table.ts';

export type ApprovalStatus = 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED';

/** An approval as the ledger returns it. The task token is deliberately not part of it. */
export interface ApprovalRecord {
  readonly approvalId: string;
  readonly runId: string;
  readonly planHash: string;
  readonly planKey: string;
  readonly status: ApprovalStatus;
  /** ISO-8601. */
  readonly expiresAt: string;
  readonly createdAt: string;
  readonly decision?: ApprovalDecision;
  readonly approver?: string;
  readonly decidedAt?: string;
  /** When the decision was known to have reached the workflow. */
  readonly deliveredAt?: string;
  /** Where the decision's POST came from (the single shared link; votes carry their own). */
  readonly sourceIp?: string;
  readonly userAgent?: string;
  /** Whether the task token is still stored (never the token itself). */
  readonly hasTaskToken: boolean;
  /** Named approvers (personal links); absent for the single shared link. */
  readonly approvers?: readonly string[];
  readonly requiredApprovals?: number;
  /** Each named approver's decision, by address (`approval-votes.ts`). */
  readonly votes?: Readonly<Record<string, Vote>>;
}

export interface NewApproval {
  readonly approvalId: string;
  readonly runId: string;
  readonly planHash: string;
  readonly planKey: string;
  readonly taskToken: string;
  readonly expiresAt: Date;
  /** Named approvers, each sent a personal link; the decision is then a quorum of their votes. */
  readonly approvers?: readonly string[];
  /** Distinct approvals of the same plan hash needed (1 to approvers.length). Default 1. */
  readonly requiredApprovals?: number;
}

/**
 * A Step Functions task token. Anyone holding it can resume the workflow, so it is wrapped:
 * JSON, string conversion and `util.inspect` (console, loggers) all print a placeholder.
 */
export class TaskToken {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  /** The real token; pass it straight to SendTaskSuccess and nowhere else. */
  reveal(): string {
    return this.#value;
  }
  toJSON(): string {
    return '[task token]';
  }
  toString(): string {
    return '[task token]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[task token]';
  }
}

export type UseApprovalResult =
  /** `useId` names this use, for `settleApproval` once the decision is delivered. */
  { readonly used: true; readonly taskToken: TaskToken; readonly useId: string } | { readonly used: false };

export class ApprovalStore {
  readonly #table: LedgerTable;

  constructor(options: LedgerOptions) {
    this.#table = ledgerTable(options);
  }

  /**
   * Stores a new approval (PENDING). The task token is stored here and nowhere else. Writing the
   * very same approval again (the SDK retrying a put whose response was lost) is success.
   */
  async putApproval(approval: NewApproval): Promise<void> {
    const created = await conditionalWrite(
      this.#table,
      new PutCommand({
        TableName: this.#table.tableName,
        Item: {
          pk: approvalPk(approval.approvalId),
          sk: APPROVAL_SK,
          approvalId: approval.approvalId,
          runId: approval.runId,
          planHash: approval.planHash,
          planKey: approval.planKey,
          taskToken: approval.taskToken,
          status: 'PENDING',
          expiresAt: approval.expiresAt.toISOString(),
          createdAt: this.#table.now().toISOString(),
          ttl: epochSeconds(approval.expiresAt) + APPROVAL_RETENTION_SECONDS,
          ...(approval.approvers
            ? {
                approvers: [...approval.approvers],
                requiredApprovals: approval.requiredApprovals ?? 1,
                votes: {},
                approvalsCounted: 0,
              }
            : {}),
        },
        ConditionExpression:
          'attribute_not_exists(pk) OR (#status = :pending AND taskToken = :token AND runId = :runId AND planHash = :planHash AND planKey = :planKey)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':pending': 'PENDING',
          ':token': approval.taskToken,
          ':runId': approval.runId,
          ':planHash': approval.planHash,
          ':planKey': approval.planKey,
        },
      }),
    );
    if (!created) throw new PlanConflictError(`approval ${approval.approvalId} already exists`);
  }

  /** The approval without its task token. */
  async getApproval(approvalId: string): Promise<ApprovalRecord | undefined> {
    const out = await this.#table.doc.send(
      new GetCommand({
        TableName: this.#table.tableName,
        Key: { pk: approvalPk(approvalId), sk: APPROVAL_SK },
        ConsistentRead: true,
      }),
    );
    return out.Item ? toApproval(out.Item) : undefined;
  }

  /**
   * Uses an approval once: PENDING → APPROVED / REJECTED, only while the plan hash matches and
   * the approval has not expired. Returns the task token only to the caller that won. A fresh
   * `useId` per call makes a lost response harmless: the SDK's retry fails the condition, and
   * the approval already used under this very `useId` hands its token back.
   */
  async useApproval(
    approvalId: string,
    use: { decision: ApprovalDecision; approver: string; planHash: string; origin?: DecisionOrigin },
    now: Date = this.#table.now(),
  ): Promise<UseApprovalResult> {
    const useId = randomUUID();
    const key = { pk: approvalPk(approvalId), sk: APPROVAL_SK };
    try {
      // Not conditionalWrite: the winner needs the written item back (ReturnValues), for its token.
      const out = await this.#table.doc.send(
        new UpdateCommand({
          TableName: this.#table.tableName,
          Key: key,
          UpdateExpression:
            'SET #status = :decision, decision = :decision, approver = :approver, decidedAt = :now, useId = :useId, sourceIp = :ip, userAgent = :ua',
          // Not for named approvers: their decision is a quorum of votes (castVote).
          ConditionExpression:
            'attribute_exists(pk) AND #status = :pending AND planHash = :planHash AND expiresAt > :now AND attribute_not_exists(approvers)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':decision': use.decision,
            ':approver': use.approver,
            ':now': now.toISOString(),
            ':pending': 'PENDING',
            ':planHash': use.planHash,
            ':useId': useId,
            ':ip': use.origin?.sourceIp ?? 'unknown',
            ':ua': use.origin?.userAgent ?? 'none',
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return tokenOf(out.Attributes, useId);
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    return claimToken(this.#table, approvalId, use.decision, useId);
  }

  /**
   * The decision reached the workflow (SendTaskSuccess answered, or the run shows it acted):
   * the token leaves the ledger, in the same conditional update that records the delivery.
   * Already settled counts as success.
   */
  async settleApproval(approvalId: string, useId: string): Promise<boolean> {
    return conditionalWrite(
      this.#table,
      new UpdateCommand({
        TableName: this.#table.tableName,
        Key: { pk: approvalPk(approvalId), sk: APPROVAL_SK },
        // A delivered decision is the audit record of who decided: TTL no longer removes it.
        UpdateExpression: 'SET deliveredAt = if_not_exists(deliveredAt, :now) REMOVE taskToken, #ttl',
        ConditionExpression: 'attribute_exists(pk) AND useId = :useId',
        ExpressionAttributeNames: { '#ttl': LEDGER_TTL_ATTRIBUTE },
        ExpressionAttributeValues: { ':useId': useId, ':now': this.#table.now().toISOString() },
      }),
    );
  }

  /**
   * Puts a used approval back to PENDING, for when SendTaskSuccess could not be delivered (the
   * service was unreachable), so the person can press the button again. Step Functions accepts a
   * token once, so a second delivery of a decision that did arrive is refused there.
   */
  async reopenApproval(approvalId: string, decision: ApprovalDecision): Promise<boolean> {
    return conditionalWrite(
      this.#table,
      new UpdateCommand({
        TableName: this.#table.tableName,
        Key: { pk: approvalPk(approvalId), sk: APPROVAL_SK },
        UpdateExpression:
          'SET #status = :pending REMOVE decision, approver, decidedAt, useId, sourceIp, userAgent',
        ConditionExpression:
          'attribute_exists(pk) AND #status = :decision AND attribute_not_exists(approvers)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':pending': 'PENDING', ':decision': decision },
      }),
    );
  }

  /**
   * The run reached Finalize with this approval's decision, so the workflow has it: the token
   * leaves the ledger even if the page crashed between SendTaskSuccess and `settleApproval`.
   * Only a decided approval loses it; already gone counts as success.
   */
  async forgetTaskToken(approvalId: string): Promise<boolean> {
    return conditionalWrite(
      this.#table,
      new UpdateCommand({
        TableName: this.#table.tableName,
        Key: { pk: approvalPk(approvalId), sk: APPROVAL_SK },
        UpdateExpression: 'SET deliveredAt = if_not_exists(deliveredAt, :now) REMOVE taskToken',
        ConditionExpression: 'attribute_exists(pk) AND #status IN (:approved, :rejected)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':approved': 'APPROVED',
          ':rejected': 'REJECTED',
          ':now': this.#table.now().toISOString(),
        },
      }),
    );
  }

  /**
   * Marks an approval EXPIRED (its task timed out, or the run no longer waits) and removes the
   * task token in the same update. Already expired counts as success.
   */
  async expireApproval(approvalId: string): Promise<boolean> {
    return conditionalWrite(
      this.#table,
      new UpdateCommand({
        TableName: this.#table.tableName,
        Key: { pk: approvalPk(approvalId), sk: APPROVAL_SK },
        UpdateExpression: 'SET #status = :expired, expiredAt = :now REMOVE taskToken',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':expired': 'EXPIRED', ':now': this.#table.now().toISOString() },
      }),
    );
  }
}

/**
 * The token of an approval this very use (`useId`) decided, when its write landed but the answer
 * was lost (the SDK's retry then fails the condition). Any other use gets nothing.
 */
export async function claimToken(
  table: LedgerTable,
  approvalId: string,
  decision: ApprovalDecision,
  useId: string,
): Promise<UseApprovalResult> {
  try {
    const out = await table.doc.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: { pk: approvalPk(approvalId), sk: APPROVAL_SK },
        UpdateExpression: 'SET useId = :useId',
        ConditionExpression: '#status = :decision AND useId = :useId AND attribute_exists(taskToken)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':decision': decision, ':useId': useId },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return tokenOf(out.Attributes, useId);
  } catch (error) {
    if (isConditionFailure(error)) return { used: false };
    throw error;
  }
}

export function tokenOf(attributes: DocItem | undefined, useId: string): UseApprovalResult {
  const token = attributes?.taskToken;
  if (typeof token !== 'string' || token.length === 0) return { used: false };
  return { used: true, taskToken: new TaskToken(token), useId };
}

function toApproval(item: DocItem): ApprovalRecord {
  // The token stays in the table: nothing that reads an approval for display can leak it.
  const {
    pk: _pk,
    sk: _sk,
    ttl: _ttl,
    taskToken: _taskToken,
    useId: _useId,
    approvalsCounted: _counted,
    votes,
    ...rest
  } = item;
  return {
    ...(rest as unknown as ApprovalRecord),
    ...(votes ? { votes: votesOf(votes) } : {}),
    hasTaskToken: typeof _taskToken === 'string',
  };
}

/** The votes as recorded, without their use ids. */
export function votesOf(raw: unknown): Record<string, Vote> {
  const votes: Record<string, Vote> = {};
  for (const [address, value] of Object.entries((raw ?? {}) as Record<string, DocItem>)) {
    const { useId: _useId, ...vote } = value;
    votes[address] = vote as unknown as Vote;
  }
  return votes;
}
