/**
 * Approvals (`APPROVAL#<approvalId>` / `APPROVAL`): the task token is stored here and nowhere
 * else, and never returned except to the one caller that uses the approval.
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ApprovalDecision } from '../../core/workflow.ts';
import { conditionalWrite, isConditionFailure } from './conditional-write.ts';
import { PlanConflictError } from './errors.ts';
import { epochSeconds } from './expressions.ts';
import {
  APPROVAL_RETENTION_SECONDS,
  APPROVAL_SK,
  approvalPk,
  type DocItem,
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
}

export interface NewApproval {
  readonly approvalId: string;
  readonly runId: string;
  readonly planHash: string;
  readonly planKey: string;
  readonly taskToken: string;
  readonly expiresAt: Date;
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
  | { readonly used: true; readonly taskToken: TaskToken }
  | { readonly used: false };

export class ApprovalStore {
  readonly #table: LedgerTable;

  constructor(options: LedgerOptions) {
    this.#table = ledgerTable(options);
  }

  /** Stores a new approval (PENDING). The task token is stored here and nowhere else. */
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
        },
        ConditionExpression: 'attribute_not_exists(pk)',
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
   * the approval has not expired. Returns the task token only to the caller that won.
   */
  async useApproval(
    approvalId: string,
    use: { decision: ApprovalDecision; approver: string; planHash: string },
    now: Date = this.#table.now(),
  ): Promise<UseApprovalResult> {
    try {
      // Not conditionalWrite: the winner needs the written item back (ReturnValues), for its token.
      const out = await this.#table.doc.send(
        new UpdateCommand({
          TableName: this.#table.tableName,
          Key: { pk: approvalPk(approvalId), sk: APPROVAL_SK },
          UpdateExpression:
            'SET #status = :decision, decision = :decision, approver = :approver, decidedAt = :now',
          ConditionExpression:
            'attribute_exists(pk) AND #status = :pending AND planHash = :planHash AND expiresAt > :now',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':decision': use.decision,
            ':approver': use.approver,
            ':now': now.toISOString(),
            ':pending': 'PENDING',
            ':planHash': use.planHash,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const token = out.Attributes?.taskToken;
      if (typeof token !== 'string' || token.length === 0) return { used: false };
      return { used: true, taskToken: new TaskToken(token) };
    } catch (error) {
      if (isConditionFailure(error)) return { used: false };
      throw error;
    }
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
        UpdateExpression: 'SET #status = :pending REMOVE decision, approver, decidedAt',
        ConditionExpression: 'attribute_exists(pk) AND #status = :decision',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':pending': 'PENDING', ':decision': decision },
      }),
    );
  }

  /** Marks an approval EXPIRED (its task timed out). Already expired counts as success. */
  async expireApproval(approvalId: string): Promise<boolean> {
    return conditionalWrite(
      this.#table,
      new UpdateCommand({
        TableName: this.#table.tableName,
        Key: { pk: approvalPk(approvalId), sk: APPROVAL_SK },
        UpdateExpression: 'SET #status = :expired, expiredAt = :now',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':expired': 'EXPIRED', ':now': this.#table.now().toISOString() },
      }),
    );
  }
}

function toApproval(item: DocItem): ApprovalRecord {
  // The token stays in the table: nothing that reads an approval for display can leak it.
  const { pk: _pk, sk: _sk, ttl: _ttl, taskToken: _taskToken, ...rest } = item;
  return rest as unknown as ApprovalRecord;
}
