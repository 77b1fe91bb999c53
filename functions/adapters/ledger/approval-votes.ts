/**
 * Votes of named approvers on one approval item (`votes.<address>`), and the quorum.
 *
 * Every vote is one conditional UpdateItem on the approval: the approval is PENDING, for this plan
 * hash, not expired, this address has not voted, and `approvalsCounted` is still the count the
 * voter read. So two approvers pressing at once cannot both see "one more needed": the second
 * write fails its condition, re-reads, and is the one that reaches the quorum. The write that
 * reaches the quorum (or any rejection) also moves the approval to APPROVED / REJECTED and gets
 * the task token back, in the same update, so exactly one caller ever sends it.
 *
 * Lost responses: each call tags its vote with a fresh `useId`. When the SDK retries a write that
 * landed, the retry fails the condition; the re-read then finds this address's vote under this
 * very `useId` and answers as the landed write would have (recorded, or decided with the token).
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type DecisionOrigin, type Tally, tallyVotes, type Vote } from '../../core/approvers.ts';
import type { ApprovalDecision } from '../../core/workflow.ts';
import { claimToken, type TaskToken, tokenOf, votesOf } from './approvals.ts';
import { isConditionFailure } from './conditional-write.ts';
import {
  APPROVAL_SK,
  approvalPk,
  type DocItem,
  type LedgerOptions,
  type LedgerTable,
  ledgerTable,
} from './table.ts';

export interface NewVote {
  /** The address the personal link was sent to (verified from the link's signature). */
  readonly approver: string;
  readonly decision: ApprovalDecision;
  readonly planHash: string;
  /** The typed name. */
  readonly comment: string;
  readonly origin: DecisionOrigin;
}

export type VoteRefusal =
  | 'unknown'
  | 'not-pending'
  | 'not-an-approver'
  | 'plan-changed'
  | 'expired'
  | 'already-voted'
  /** Other votes kept landing between this one's read and write; nothing was recorded. */
  | 'contention';

export type VoteResult =
  /** This vote decided (quorum reached, or a rejection): send the token, then settle with `useId`. */
  | {
      readonly outcome: 'decided';
      readonly taskToken: TaskToken;
      readonly useId: string;
      readonly tally: Tally;
    }
  /** Recorded; more approvals are needed. */
  | { readonly outcome: 'recorded'; readonly useId: string; readonly tally: Tally }
  | { readonly outcome: 'refused'; readonly reason: VoteRefusal; readonly tally?: Tally };

const MAX_ATTEMPTS = 8;

export class VoteStore {
  readonly #table: LedgerTable;

  constructor(options: LedgerOptions) {
    this.#table = ledgerTable(options);
  }

  async castVote(approvalId: string, vote: NewVote, now: Date = this.#table.now()): Promise<VoteResult> {
    const useId = randomUUID();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const item = await this.#read(approvalId);
      if (!item) return { outcome: 'refused', reason: 'unknown' };
      const approvers = Array.isArray(item.approvers) ? (item.approvers as string[]) : [];
      const required = typeof item.requiredApprovals === 'number' ? item.requiredApprovals : 1;
      const raw = (item.votes ?? {}) as Record<string, DocItem>;
      const votes = votesOf(raw);
      const tally = tallyVotes(votes, approvers, required, String(item.planHash));

      const mine = raw[vote.approver];
      if (mine && mine.useId === useId) {
        // This call's own write landed; only its answer was lost.
        if (item.useId === useId) {
          const claimed = await claimToken(this.#table, approvalId, vote.decision, useId);
          if (claimed.used) return { outcome: 'decided', taskToken: claimed.taskToken, useId, tally };
        }
        return { outcome: 'recorded', useId, tally };
      }
      if (!approvers.includes(vote.approver)) return { outcome: 'refused', reason: 'not-an-approver' };
      if (mine) return { outcome: 'refused', reason: 'already-voted', tally };
      if (item.status !== 'PENDING') return { outcome: 'refused', reason: 'not-pending', tally };
      if (item.planHash !== vote.planHash) return { outcome: 'refused', reason: 'plan-changed' };
      if (String(item.expiresAt) <= now.toISOString()) return { outcome: 'refused', reason: 'expired' };

      const recorded: Vote & { useId: string } = {
        decision: vote.decision,
        planHash: vote.planHash,
        decidedAt: now.toISOString(),
        comment: vote.comment,
        sourceIp: vote.origin.sourceIp,
        userAgent: vote.origin.userAgent,
        useId,
      };
      const after = tallyVotes({ ...votes, [vote.approver]: recorded }, approvers, required, vote.planHash);
      const decides = vote.decision === 'REJECTED' || after.reached;
      const counted = typeof item.approvalsCounted === 'number' ? item.approvalsCounted : 0;
      const sets = ['votes.#addr = :vote', 'approvalsCounted = :next'];
      if (decides)
        sets.push(
          '#status = :decision',
          'decision = :decision',
          'approver = :approvedBy',
          'decidedAt = :now',
          'useId = :useId',
        );
      try {
        const out = await this.#table.doc.send(
          new UpdateCommand({
            TableName: this.#table.tableName,
            Key: { pk: approvalPk(approvalId), sk: APPROVAL_SK },
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression:
              '#status = :pending AND planHash = :planHash AND expiresAt > :now AND attribute_not_exists(votes.#addr) AND approvalsCounted = :counted',
            ExpressionAttributeNames: { '#status': 'status', '#addr': vote.approver },
            ExpressionAttributeValues: {
              ':vote': recorded,
              ':pending': 'PENDING',
              ':planHash': vote.planHash,
              ':now': now.toISOString(),
              ':counted': counted,
              ':next': counted + (vote.decision === 'APPROVED' ? 1 : 0),
              ...(decides
                ? {
                    ':decision': vote.decision,
                    // Who decided: the addresses, never the typed names.
                    ':approvedBy': (vote.decision === 'APPROVED' ? after.approvedBy : [vote.approver]).join(
                      ', ',
                    ),
                    ':useId': useId,
                  }
                : {}),
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        if (!decides) return { outcome: 'recorded', useId, tally: after };
        const token = tokenOf(out.Attributes, useId);
        // A decided approval without its token was already delivered or expired: nothing to send.
        return token.used
          ? { outcome: 'decided', taskToken: token.taskToken, useId, tally: after }
          : { outcome: 'refused', reason: 'not-pending', tally: after };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        // Another vote landed first, or this one did and its answer was lost: read again.
      }
    }
    return { outcome: 'refused', reason: 'contention' };
  }

  /**
   * Takes back a deciding vote whose SendTaskSuccess could not be delivered, so the approver can
   * press again: the approval is PENDING again without this vote, its count restored.
   */
  async reopenVote(
    approvalId: string,
    approver: string,
    decision: ApprovalDecision,
    useId: string,
  ): Promise<boolean> {
    try {
      await this.#table.doc.send(
        new UpdateCommand({
          TableName: this.#table.tableName,
          Key: { pk: approvalPk(approvalId), sk: APPROVAL_SK },
          UpdateExpression:
            'SET #status = :pending, approvalsCounted = approvalsCounted - :one REMOVE votes.#addr, decision, approver, decidedAt, useId',
          ConditionExpression: '#status = :decision AND useId = :useId AND votes.#addr.useId = :useId',
          ExpressionAttributeNames: { '#status': 'status', '#addr': approver },
          ExpressionAttributeValues: {
            ':pending': 'PENDING',
            ':decision': decision,
            ':useId': useId,
            ':one': decision === 'APPROVED' ? 1 : 0,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async #read(approvalId: string): Promise<DocItem | undefined> {
    const out = await this.#table.doc.send(
      new GetCommand({
        TableName: this.#table.tableName,
        Key: { pk: approvalPk(approvalId), sk: APPROVAL_SK },
        ConsistentRead: true,
        // Never the task token: only a winning update hands that out.
        ProjectionExpression:
          '#status, planHash, expiresAt, approvers, requiredApprovals, votes, approvalsCounted, useId',
        ExpressionAttributeNames: { '#status': 'status' },
      }),
    );
    return out.Item;
  }
}
