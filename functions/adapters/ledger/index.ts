/**
 * The audit ledger, one DynamoDB table split by entity: `RunStore` (runs.ts), `ItemStore`
 * (items.ts: per-AMI and per-orphan-snapshot records), `ApprovalStore` (approvals.ts) and
 * `LockStore` (lock.ts), `IntentStore` (intents.ts: deregistrations not yet finished) and
 * `LaunchTemplateReadStore` (launch-template-reads.ts: the last full launch-template read a
 * deregistration may reuse), sharing the table definition (table.ts) and one conditional-write
 * helper (conditional-write.ts).
 *
 * `Ledger` composes the four and keeps the single-object API every caller used before the split.
 * New code, and handlers in particular, should prefer depending on the one store they use: that
 * is the seam for per-function least-privilege IAM (a handler that only takes the lock needs no
 * access to approvals and their task tokens).
 */
import type { DecisionOrigin } from '../../core/approvers.ts';
import type { Plan } from '../../core/model.ts';
import type { ApprovalDecision, RunContext, RunStatus } from '../../core/workflow.ts';
import { type NewVote, type VoteResult, VoteStore } from './approval-votes.ts';
import { type ApprovalRecord, ApprovalStore, type NewApproval, type UseApprovalResult } from './approvals.ts';
import { type DeregistrationIntent, IntentStore } from './intents.ts';
import {
  type FinalizeOutcome,
  type FinalizeResult,
  type ItemKind,
  ItemStore,
  type LedgerItem,
  type RecordPlanResult,
  type TransitionOptions,
} from './items.ts';
import { type LaunchTemplateRead, LaunchTemplateReadStore } from './launch-template-reads.ts';
import { type LockHolder, LockStore } from './lock.ts';
import { type RunFields, type RunRecord, RunStore } from './runs.ts';
import type { LedgerOptions } from './table.ts';

export * from './approval-votes.ts';
export * from './approvals.ts';
export * from './errors.ts';
export * from './intents.ts';
export * from './items.ts';
export * from './launch-template-reads.ts';
export * from './lock.ts';
export * from './runs.ts';
export {
  APPROVAL_RETENTION_SECONDS,
  BY_IMAGE_INDEX,
  LEDGER_TTL_ATTRIBUTE,
  type LedgerOptions,
  ledgerTableDefinition,
  RUNS_BY_START_INDEX,
} from './table.ts';

/** All four stores behind one object; prefer the single store a caller needs (see above). */
export class Ledger {
  readonly runs: RunStore;
  readonly items: ItemStore;
  readonly approvals: ApprovalStore;
  readonly votes: VoteStore;
  readonly lock: LockStore;
  readonly intents: IntentStore;
  readonly launchTemplateReads: LaunchTemplateReadStore;

  constructor(options: LedgerOptions) {
    this.runs = new RunStore(options);
    this.items = new ItemStore(options);
    this.approvals = new ApprovalStore(options);
    this.votes = new VoteStore(options);
    this.lock = new LockStore(options);
    this.intents = new IntentStore(options);
    this.launchTemplateReads = new LaunchTemplateReadStore(options);
  }

  // ----- lock ---------------------------------------------------------------------------------

  acquireLock(lockKey: string, runId: string, ttlSeconds: number, now?: Date): Promise<boolean> {
    return this.lock.acquireLock(lockKey, runId, ttlSeconds, now);
  }

  releaseLock(lockKey: string, runId: string): Promise<boolean> {
    return this.lock.releaseLock(lockKey, runId);
  }

  getLock(lockKey: string): Promise<LockHolder | undefined> {
    return this.lock.getLock(lockKey);
  }

  // ----- runs ---------------------------------------------------------------------------------

  putRun(run: RunContext, fields?: RunFields): Promise<void> {
    return this.runs.putRun(run, fields);
  }

  updateRun(runId: string, fields: RunFields, options?: { from?: readonly RunStatus[] }): Promise<boolean> {
    return this.runs.updateRun(runId, fields, options);
  }

  getRun(runId: string): Promise<RunRecord | undefined> {
    return this.runs.getRun(runId);
  }

  listRuns(options?: { limit?: number }): Promise<RunRecord[]> {
    return this.runs.listRuns(options);
  }

  // ----- items --------------------------------------------------------------------------------

  recordPlan(
    run: RunContext,
    plan: Plan,
    options?: { maxDeletionsPerRun?: number },
  ): Promise<RecordPlanResult> {
    return this.items.recordPlan(run, plan, options);
  }

  getItem(runId: string, kind: ItemKind, id: string): Promise<LedgerItem | undefined> {
    return this.items.getItem(runId, kind, id);
  }

  listItems(runId: string): Promise<LedgerItem[]> {
    return this.items.listItems(runId);
  }

  itemsByImage(imageId: string): Promise<LedgerItem[]> {
    return this.items.itemsByImage(imageId);
  }

  transition(runId: string, kind: ItemKind, id: string, options: TransitionOptions): Promise<boolean> {
    return this.items.transition(runId, kind, id, options);
  }

  markAllApproved(runId: string, planHash: string): Promise<number> {
    return this.items.markAllApproved(runId, planHash);
  }

  finalizeItems(runId: string, outcome: FinalizeOutcome): Promise<FinalizeResult> {
    return this.items.finalizeItems(runId, outcome);
  }

  // ----- approvals ----------------------------------------------------------------------------

  putApproval(approval: NewApproval): Promise<void> {
    return this.approvals.putApproval(approval);
  }

  getApproval(approvalId: string): Promise<ApprovalRecord | undefined> {
    return this.approvals.getApproval(approvalId);
  }

  useApproval(
    approvalId: string,
    use: { decision: ApprovalDecision; approver: string; planHash: string; origin?: DecisionOrigin },
    now?: Date,
  ): Promise<UseApprovalResult> {
    return this.approvals.useApproval(approvalId, use, now);
  }

  castVote(approvalId: string, vote: NewVote, now?: Date): Promise<VoteResult> {
    return this.votes.castVote(approvalId, vote, now);
  }

  reopenVote(
    approvalId: string,
    approver: string,
    decision: ApprovalDecision,
    useId: string,
  ): Promise<boolean> {
    return this.votes.reopenVote(approvalId, approver, decision, useId);
  }

  settleApproval(approvalId: string, useId: string): Promise<boolean> {
    return this.approvals.settleApproval(approvalId, useId);
  }

  reopenApproval(approvalId: string, decision: ApprovalDecision): Promise<boolean> {
    return this.approvals.reopenApproval(approvalId, decision);
  }

  expireApproval(approvalId: string): Promise<boolean> {
    return this.approvals.expireApproval(approvalId);
  }

  forgetTaskToken(approvalId: string): Promise<boolean> {
    return this.approvals.forgetTaskToken(approvalId);
  }

  // ----- deregistration intents ---------------------------------------------------------------

  recordDeregistrationIntent(
    lockKey: string,
    intent: Omit<DeregistrationIntent, 'recordedAt'>,
  ): Promise<void> {
    return this.intents.recordDeregistrationIntent(lockKey, intent);
  }

  clearDeregistrationIntent(lockKey: string, runId: string, imageId: string): Promise<void> {
    return this.intents.clearDeregistrationIntent(lockKey, runId, imageId);
  }

  listDeregistrationIntents(lockKey: string): Promise<DeregistrationIntent[]> {
    return this.intents.listDeregistrationIntents(lockKey);
  }

  // ----- launch-template reads ----------------------------------------------------------------

  getLaunchTemplateRead(lockKey: string): Promise<LaunchTemplateRead | undefined> {
    return this.launchTemplateReads.getLaunchTemplateRead(lockKey);
  }

  recordLaunchTemplateRead(lockKey: string, read: LaunchTemplateRead): Promise<void> {
    return this.launchTemplateReads.recordLaunchTemplateRead(lockKey, read);
  }
}
