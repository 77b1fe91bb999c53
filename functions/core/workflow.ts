/**
 * The workflow's shared vocabulary: run context, ledger statuses and the payloads that pass
 * between states. Payloads carry references (workspace keys, ids), never the inventory or the
 * plan themselves, so every state stays far below Step Functions' 256 KiB limit.
 */
import type { PlanSettings } from './settings.ts';

export type Trigger = 'schedule' | 'ami-available' | 'manual';

/** Built once by the first state and passed to every later state as `$.run`. */
export interface RunContext {
  /**
   * The ledger's partition for this run: the execution name, or for a target run of an
   * organization `targetRunId(target, parentRunId)` (its plan child is `…-plan`).
   */
  readonly runId: string;
  readonly executionArn: string;
  readonly trigger: Trigger;
  /** Plan and record only; never ask for approval, never delete. */
  readonly dryRun: boolean;
  readonly settings: PlanSettings;
  readonly startedAt: string;
  /** For `ami-available`: the new AMI; the run is scoped to that AMI's group. */
  readonly triggerImageId?: string;
  /** Candidates beyond this are recorded DEFERRED and left for the next run. */
  readonly maxDeletionsPerRun: number;
  /** Organization runs: the account and region this run works on. Absent = the hub's own. */
  readonly target?: { readonly accountId: string; readonly region: string };
  /** Organization runs: the parent run whose one approval decides this target run. */
  readonly parentRunId?: string;
}

/** Status of one ledger item (an AMI or an orphan snapshot) in one run. */
export type ItemStatus =
  | 'PLANNED'
  | 'KEPT'
  | 'APPROVED'
  | 'DEREGISTERED'
  | 'DONE'
  | 'SKIPPED_IN_USE'
  | 'FAILED'
  | 'REJECTED'
  | 'EXPIRED'
  /** The operator withdrew the approval request (e.g. Ctrl-C in the CLI) before a decision. */
  | 'WITHDRAWN'
  | 'DEFERRED'
  | 'DRY_RUN'
  /**
   * `amicleaner restore` brought it back from the Recycle Bin (DONE or FAILED → RESTORED,
   * see RESTORABLE_ITEM_STATUSES). The only move out of a final status besides FinishEarlierRuns'.
   */
  | 'RESTORED';

/** Statuses an item never leaves. Finalize moves every other status to one of these. */
export const FINAL_ITEM_STATUSES: readonly ItemStatus[] = [
  'KEPT',
  'DONE',
  'SKIPPED_IN_USE',
  'FAILED',
  'REJECTED',
  'EXPIRED',
  'WITHDRAWN',
  'DEFERRED',
  'DRY_RUN',
  'RESTORED',
];

/**
 * The statuses `restore` moves to RESTORED: the final ones a deletion can end in. Items of a run
 * still in progress (APPROVED, DEREGISTERED) are refused: the run may still delete them.
 */
export const RESTORABLE_ITEM_STATUSES: readonly ItemStatus[] = ['DONE', 'FAILED'];

export type RunStatus =
  | 'RUNNING'
  | 'AWAITING_APPROVAL'
  | 'DELETING'
  | 'COMPLETED'
  | 'COMPLETED_WITH_FAILURES'
  | 'NOTHING_TO_DELETE'
  | 'DRY_RUN'
  | 'REJECTED'
  | 'EXPIRED'
  | 'WITHDRAWN'
  | 'FAILED'
  | 'SKIPPED_LOCKED';

export type ApprovalDecision = 'APPROVED' | 'REJECTED';

/** What the approval page sends back through SendTaskSuccess. */
export interface ApprovalResult {
  readonly decision: ApprovalDecision;
  /** The plan hash the person saw; the workflow proceeds only if it equals the recorded one. */
  readonly planHash: string;
  readonly approver: string;
  /** Named approvers: the addresses whose approvals made the quorum (or the one who rejected). */
  readonly approvers?: readonly string[];
}

/** The execution's output, and the run item's summary in the ledger. */
export interface RunSummary {
  readonly runId: string;
  readonly status: RunStatus;
  readonly planHash?: string;
  readonly candidates: number;
  readonly deregistered: number;
  readonly snapshotsDeleted: number;
  readonly skippedInUse: number;
  readonly failed: number;
  readonly deferred: number;
  readonly gibFreed: number;
  readonly estimatedMonthlySavingUsd: number;
  readonly approver?: string;
  /**
   * Set when Recycle Bin retention was on: deleted snapshots stay billed until their retention
   * ends, so the saving starts at `savingStartsAt`, not at once.
   */
  readonly recycleBin?: {
    readonly imageDays: number;
    readonly snapshotDays: number;
    readonly savingStartsAt: string;
  };
  /** What this run finished of earlier runs (FinishEarlierRuns): snapshots of AMIs they deregistered. */
  readonly earlierRuns?: EarlierRunsSummary;
  /** Organization runs: target runs that failed, were denied, or did not finish. */
  readonly failedTargets?: number;
  /** Organization runs: one line per target, in target order. */
  readonly targets?: readonly TargetRunSummary[];
}

/** The counts a run's summary carries, shared by a run and each target line of an organization run. */
type RunCounts = Pick<
  RunSummary,
  | 'candidates'
  | 'deregistered'
  | 'snapshotsDeleted'
  | 'skippedInUse'
  | 'failed'
  | 'deferred'
  | 'gibFreed'
  | 'estimatedMonthlySavingUsd'
>;

/** One target's share of an organization run's summary. */
export interface TargetRunSummary extends RunCounts {
  readonly accountId: string;
  readonly region: string;
  readonly runId: string;
  /** The target run's status; NOT_STARTED when its plan phase never recorded a run. */
  readonly status: RunStatus | 'NOT_STARTED';
  readonly error?: string;
}

export interface EarlierRunsSummary {
  /** Earlier items recorded DONE by this run. */
  readonly finished: number;
  readonly snapshotsDeleted: number;
  readonly gibFreed: number;
  /** Left for a later run (dry run, cap, a snapshot still refused as in use); -1 when the step failed. */
  readonly unfinished: number;
  /** The step's error name, when it failed (they stay recorded for the next run). */
  readonly error?: string;
}
