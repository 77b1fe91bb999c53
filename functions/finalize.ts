/**
 * Finalize: gives every ledger item of the run a final status (invariant 5), then summarises the
 * run (counts, GiB freed, estimated monthly saving) into the run item and the execution output.
 * Idempotent: a second call moves nothing and writes the same summary.
 */
import type { FinalizeOutcome, Ledger, LedgerItem, RunRecord } from './adapters/ledger/index.ts';
import { PowertoolsRunMetrics, type RunMetricsPublisher } from './adapters/run-metrics.ts';
import { lazyHandler, ledgerFromEnv } from './commons/deps.ts';
import { getNumberFromEnv, recycleBinFromEnv } from './commons/env.ts';
import { classifyFailures, failureMessage, InvalidEventError, type StateError } from './commons/errors.ts';
import { isRecord, PLAN_HASH, requireRecord, requireRun, requireString } from './commons/events.ts';
import { createLogger, type HandlerLogger, silentLogger } from './commons/logger.ts';
import { type RecycleBinRetention, savingStartsAt } from './core/recycle-bin.ts';
import { approvalLatencySeconds, buildRunMetrics } from './core/run-metrics.ts';
import { estimateMonthlySavingUsd } from './core/summary.ts';
import type {
  ApprovalResult,
  EarlierRunsSummary,
  RunContext,
  RunStatus,
  RunSummary,
} from './core/workflow.ts';

/** How the workflow ended, as the ASL's SetOutcome* states say. APPROVED means the deletions ran. */
export type RunOutcome =
  | 'APPROVED'
  | 'REJECTED'
  | 'EXPIRED'
  | 'WITHDRAWN'
  | 'DRY_RUN'
  | 'NOTHING_TO_DELETE'
  | 'FAILED';

export interface FinalizeEvent {
  readonly run: RunContext;
  readonly outcome: RunOutcome;
  readonly planHash?: string;
  readonly approval?: ApprovalResult;
  /** The Catch's `{ Error, Cause }` when the outcome is FAILED. */
  readonly error?: StateError;
  /** FinishEarlierRuns' result (`$.earlierRuns`), reported in the summary. */
  readonly earlierRuns?: EarlierRunsSummary;
}

export type FinalizeHandlerResult = RunSummary;

export interface FinalizeDeps {
  readonly ledger: Ledger;
  /** SNAPSHOT_PRICE_PER_GIB_MONTH. */
  readonly pricePerGibMonth: number;
  readonly now: () => Date;
  readonly logger?: HandlerLogger;
  /** CloudWatch metrics (EMF) of the run; none when left out (tests, the local runner). */
  readonly metrics?: RunMetricsPublisher;
  /** Recycle Bin retention on: the summary says when the saving starts. */
  readonly recycleBin?: RecycleBinRetention;
}

/** A run in one of these is being closed by this call; any other was finalized before (a retry). */
const OPEN_RUN_STATUSES: ReadonlySet<RunStatus> = new Set(['RUNNING', 'AWAITING_APPROVAL', 'DELETING']);

const ITEM_OUTCOME: Readonly<Record<RunOutcome, FinalizeOutcome>> = {
  APPROVED: 'COMPLETED',
  // Nothing was PLANNED, so nothing is moved; the mapping only matters for a ledger changed meanwhile.
  NOTHING_TO_DELETE: 'COMPLETED',
  REJECTED: 'REJECTED',
  EXPIRED: 'EXPIRED',
  WITHDRAWN: 'WITHDRAWN',
  DRY_RUN: 'DRY_RUN',
  FAILED: 'FAILED',
};

export function createFinalizeHandler(
  deps: FinalizeDeps,
): (event: FinalizeEvent) => Promise<FinalizeHandlerResult> {
  const logger = deps.logger ?? silentLogger;
  return classifyFailures('Finalize', async (event) => {
    const record = requireRecord(event, 'event');
    const run = requireRun(record.run);
    const outcome = record.outcome as RunOutcome;
    if (typeof outcome !== 'string' || !(outcome in ITEM_OUTCOME)) {
      throw new InvalidEventError(`outcome must be one of ${Object.keys(ITEM_OUTCOME).join(', ')}`);
    }
    const eventPlanHash =
      record.planHash === undefined ? undefined : requireString(record, 'planHash', PLAN_HASH);
    const approval = isRecord(record.approval) ? record.approval : undefined;

    await deps.ledger.finalizeItems(run.runId, ITEM_OUTCOME[outcome]);
    const items = await deps.ledger.listItems(run.runId);
    const recorded = await deps.ledger.getRun(run.runId);
    await settleApproval(deps.ledger, recorded, outcome);

    const approver =
      outcome === 'APPROVED' || outcome === 'REJECTED'
        ? (recorded?.approver ?? (typeof approval?.approver === 'string' ? approval.approver : undefined))
        : undefined;
    const planHash = eventPlanHash ?? recorded?.planHash;
    const summary = summariseRun({
      runId: run.runId,
      outcome,
      items,
      pricePerGibMonth: deps.pricePerGibMonth,
      ...(planHash === undefined ? {} : { planHash }),
      ...(approver === undefined ? {} : { approver }),
    });
    const earlierRuns = earlierRunsOf(record.earlierRuns);
    if (earlierRuns) Object.assign(summary, { earlierRuns });
    if (deps.recycleBin && summary.snapshotsDeleted + summary.deregistered > 0) {
      const { imageDays, snapshotDays } = deps.recycleBin;
      const startsAt = savingStartsAt(deps.now(), deps.recycleBin).toISOString();
      Object.assign(summary, { recycleBin: { imageDays, snapshotDays, savingStartsAt: startsAt } });
    }
    const error =
      outcome === 'FAILED' ? failureMessage(isRecord(record.error) ? record.error : undefined) : undefined;
    await deps.ledger.updateRun(run.runId, {
      status: summary.status,
      summary,
      finishedAt: deps.now().toISOString(),
      ...(error === undefined ? {} : { error }),
    });
    const { earlierRuns: _earlier, recycleBin, targets: _targets, ...counts } = summary;
    logger.info('run finalized', {
      ...counts,
      savingStartsAt: recycleBin?.savingStartsAt,
      error,
      earlierRunsFinished: earlierRuns?.finished,
      earlierRunsUnfinished: earlierRuns?.unfinished,
    });
    // At most once per run: a retried Finalize must not count the same deletions twice.
    if (deps.metrics && recorded && OPEN_RUN_STATUSES.has(recorded.status)) {
      await publishRunMetrics(deps.metrics, deps.ledger, recorded, summary, logger);
    }
    return summary;
  });
}

/** The run's approval when it ends: expired or withdrawn in the ledger too, and never a token left behind. */
export async function settleApproval(
  ledger: Pick<Ledger, 'expireApproval' | 'forgetTaskToken'>,
  recorded: RunRecord | undefined,
  outcome: RunOutcome,
): Promise<void> {
  if (!recorded?.approvalId) return;
  if (outcome === 'EXPIRED' || outcome === 'WITHDRAWN') {
    // The link already refuses an expired or withdrawn approval; this makes the ledger say so too.
    await ledger.expireApproval(recorded.approvalId);
  } else {
    // A decided approval's token must not outlive the run, even when the page crashed after
    // SendTaskSuccess and never settled it (the ledger only forgets a decided approval's).
    await ledger.forgetTaskToken(recorded.approvalId);
  }
}

/** Metrics are observability, not the audit record: a failure is logged and the run still closes. */
async function publishRunMetrics(
  metrics: RunMetricsPublisher,
  ledger: Ledger,
  run: RunRecord,
  summary: RunSummary,
  logger: HandlerLogger,
): Promise<void> {
  try {
    const approval = run.approvalId ? await ledger.getApproval(run.approvalId) : undefined;
    const latency = approvalLatencySeconds(approval);
    metrics.publish(
      buildRunMetrics({
        executionArn: run.executionArn,
        ...(run.target === undefined ? {} : { target: run.target }),
        summary,
        ...(latency === undefined ? {} : { approvalLatencySeconds: latency }),
      }),
    );
  } catch (error) {
    logger.warn('run metrics not published', { runId: run.runId, error: (error as Error).message });
  }
}

/** The run summary from the finalized items. Pure. */
export function summariseRun(input: {
  readonly runId: string;
  readonly outcome: RunOutcome;
  readonly items: readonly LedgerItem[];
  readonly pricePerGibMonth: number;
  readonly planHash?: string;
  readonly approver?: string;
}): RunSummary {
  const { items } = input;
  const count = (predicate: (item: LedgerItem) => boolean): number => items.filter(predicate).length;
  const sum = (field: string): number =>
    items
      .filter((item) => item.status === 'DONE')
      .reduce((total, item) => total + (typeof item[field] === 'number' ? (item[field] as number) : 0), 0);
  const failed = count((item) => item.status === 'FAILED');
  const gibFreed = sum('gibFreed');
  return {
    runId: input.runId,
    status: runStatus(input.outcome, failed),
    ...(input.planHash === undefined ? {} : { planHash: input.planHash }),
    // Every item the plan proposed to delete (AMIs and orphan snapshots), deferred ones included.
    candidates: count((item) => item.status !== 'KEPT'),
    // Set by deregister-image: also counts AMIs that failed later, at their snapshots.
    deregistered: count((item) => item.kind === 'IMAGE' && typeof item.deregisteredAt === 'string'),
    snapshotsDeleted: sum('snapshotsDeleted'),
    skippedInUse: count((item) => item.status === 'SKIPPED_IN_USE'),
    failed,
    deferred: count((item) => item.status === 'DEFERRED'),
    gibFreed,
    estimatedMonthlySavingUsd: estimateMonthlySavingUsd(gibFreed, input.pricePerGibMonth),
    ...(input.approver === undefined ? {} : { approver: input.approver }),
  };
}

/** `$.earlierRuns` as FinishEarlierRuns (or its Catch) left it; anything else is ignored. */
function earlierRunsOf(value: unknown): EarlierRunsSummary | undefined {
  if (!isRecord(value)) return undefined;
  const count = (key: string) =>
    typeof value[key] === 'number' && Number.isFinite(value[key]) ? (value[key] as number) : 0;
  return {
    finished: count('finished'),
    snapshotsDeleted: count('snapshotsDeleted'),
    gibFreed: count('gibFreed'),
    unfinished: count('unfinished'),
    ...(typeof value.error === 'string' ? { error: value.error.slice(0, 128) } : {}),
  };
}

/** A run's status from how it ended: an approved run with any failure is COMPLETED_WITH_FAILURES. */
export function runStatus(outcome: RunOutcome, failed: number): RunStatus {
  if (outcome === 'APPROVED') return failed > 0 ? 'COMPLETED_WITH_FAILURES' : 'COMPLETED';
  return outcome;
}

export const handler = lazyHandler(() =>
  createFinalizeHandler({
    ledger: ledgerFromEnv(),
    pricePerGibMonth: getNumberFromEnv('SNAPSHOT_PRICE_PER_GIB_MONTH', { min: 0 }),
    now: () => new Date(),
    logger: createLogger('finalize'),
    metrics: new PowertoolsRunMetrics(),
    ...recycleBinFromEnv(),
  }),
);
