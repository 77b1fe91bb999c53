/**
 * FinalizeOrganizationRun: the last state of an organization run. Each target run finalized
 * itself (its items, its lock); this reads their summaries from the ledger and records the run's
 * own in the ledger: the sums over every target plus one line per target, so a failure or a
 * denied account is visible next to what the others deleted. It returns the sums only: one line
 * a target (300 to 550 bytes) would grow the parent's state with the targets past 256 KiB. The parent's approval is settled as Finalize settles a
 * run's own (expired or withdrawn in the ledger; a decided one's task token forgotten).
 */
import { mapWithConcurrency } from './adapters/concurrency.ts';
import type { Ledger, RunRecord } from './adapters/ledger/index.ts';
import { lazyHandler, ledgerFromEnv } from './commons/deps.ts';
import { getNumberFromEnv } from './commons/env.ts';
import { classifyFailures, failureMessage, InvalidEventError } from './commons/errors.ts';
import { isRecord, requirePlannedTargets, requireRecord, requireRun } from './commons/events.ts';
import { createLogger, type HandlerLogger, silentLogger } from './commons/logger.ts';
import { lockKeyOf } from './core/run-target.ts';
import type { RunSummary, TargetRunSummary } from './core/workflow.ts';
import {
  createFinalizeHandler,
  type FinalizeDeps,
  type RunOutcome,
  runStatus,
  settleApproval,
} from './finalize.ts';

export interface FinalizeOrganizationRunEvent {
  readonly run: unknown;
  readonly targets?: unknown;
  readonly outcome: RunOutcome;
  readonly error?: unknown;
}

export interface FinalizeOrganizationRunDeps {
  /** Finalize's own ledger use too: a target run no phase child took over is closed here. */
  readonly ledger: Ledger;
  /** SNAPSHOT_PRICE_PER_GIB_MONTH, for the summary of a target run closed here. */
  readonly pricePerGibMonth: number;
  readonly now: () => Date;
  readonly logger?: HandlerLogger;
}

const OUTCOMES = new Set<RunOutcome>([
  'APPROVED',
  'REJECTED',
  'EXPIRED',
  'WITHDRAWN',
  'DRY_RUN',
  'NOTHING_TO_DELETE',
  'FAILED',
]);
/** Target runs in these did not end as planned: the run says so in its status and `failedTargets`. */
const TARGET_FAILURES = new Set<string>([
  'FAILED',
  'COMPLETED_WITH_FAILURES',
  'NOT_STARTED',
  'RUNNING',
  'DELETING',
]);
const READ_CONCURRENCY = 8;

/** What the handler returns into the parent's state (the execution's output): the run's summary without its lines. */
export type OrganizationRunTotals = Omit<RunSummary, 'targets'> & { readonly targetCount: number };

export function createFinalizeOrganizationRunHandler(
  deps: FinalizeOrganizationRunDeps,
): (event: FinalizeOrganizationRunEvent) => Promise<OrganizationRunTotals> {
  const logger = deps.logger ?? silentLogger;
  const closeTargetRun = targetRunCloser(deps);
  return classifyFailures('FinalizeOrganizationRun', async (event) => {
    const record = requireRecord(event, 'event');
    const run = requireRun(record.run);
    let outcome = record.outcome as RunOutcome;
    if (!OUTCOMES.has(outcome))
      throw new InvalidEventError(`outcome must be one of ${[...OUTCOMES].join(', ')}`);
    if (outcome === 'NOTHING_TO_DELETE' && run.dryRun) outcome = 'DRY_RUN';
    const given = record.targets === undefined ? [] : record.targets;
    const targets = requirePlannedTargets(given, run.runId).map((each) => each.planned);

    const lines = await mapWithConcurrency(
      targets,
      READ_CONCURRENCY,
      async (each): Promise<TargetRunSummary> => {
        const child = await closeTargetRun(await deps.ledger.getRun(each.runId));
        const summary = child?.summary;
        return {
          accountId: each.accountId,
          region: each.region,
          runId: each.runId,
          status: child?.status ?? 'NOT_STARTED',
          candidates: summary?.candidates ?? 0,
          deregistered: summary?.deregistered ?? 0,
          snapshotsDeleted: summary?.snapshotsDeleted ?? 0,
          skippedInUse: summary?.skippedInUse ?? 0,
          failed: summary?.failed ?? 0,
          deferred: summary?.deferred ?? 0,
          gibFreed: summary?.gibFreed ?? 0,
          estimatedMonthlySavingUsd: summary?.estimatedMonthlySavingUsd ?? 0,
          ...(child?.error === undefined ? {} : { error: child.error.slice(0, 200) }),
        };
      },
    );
    const sum = (pick: (line: TargetRunSummary) => number) =>
      lines.reduce((total, line) => total + pick(line), 0);
    const failedTargets = lines.filter((line) => TARGET_FAILURES.has(line.status)).length;
    const recorded = await deps.ledger.getRun(run.runId);
    // Who decided: the ledger's approval record (the parent run has no LoadApproved to copy it).
    const decided = recorded?.approvalId ? await deps.ledger.getApproval(recorded.approvalId) : undefined;
    const approver =
      outcome === 'APPROVED' || outcome === 'REJECTED'
        ? (decided?.approver ?? recorded?.approver)
        : undefined;
    await settleApproval(deps.ledger, recorded, outcome);
    const summary: RunSummary = {
      runId: run.runId,
      // Nothing to ask about because targets failed is not a clean run: say so.
      status:
        outcome === 'NOTHING_TO_DELETE' && failedTargets > 0
          ? 'COMPLETED_WITH_FAILURES'
          : runStatus(outcome, failedTargets + sum((l) => l.failed)),
      ...(recorded?.planHash === undefined ? {} : { planHash: recorded.planHash }),
      candidates: sum((l) => l.candidates),
      deregistered: sum((l) => l.deregistered),
      snapshotsDeleted: sum((l) => l.snapshotsDeleted),
      skippedInUse: sum((l) => l.skippedInUse),
      failed: sum((l) => l.failed),
      deferred: sum((l) => l.deferred),
      gibFreed: sum((l) => l.gibFreed),
      estimatedMonthlySavingUsd: Math.round(sum((l) => l.estimatedMonthlySavingUsd) * 100) / 100,
      ...(approver === undefined ? {} : { approver }),
      failedTargets,
      targets: lines,
    };
    const error =
      outcome === 'FAILED' ? failureMessage(isRecord(record.error) ? record.error : undefined) : undefined;
    await deps.ledger.updateRun(run.runId, {
      status: summary.status,
      summary,
      finishedAt: deps.now().toISOString(),
      ...(error === undefined ? {} : { error }),
    });
    logger.info('organization run finalized', {
      runId: run.runId,
      status: summary.status,
      targets: lines.length,
      failedTargets,
      deregistered: summary.deregistered,
      snapshotsDeleted: summary.snapshotsDeleted,
      error,
    });
    const { targets: _lines, ...totals } = summary;
    return { ...totals, targetCount: lines.length };
  });
}

/**
 * A target run still AWAITING_APPROVAL when the organization run ends was never taken over by
 * its delete or close child (its start was refused through every retry, or the child never got
 * past ResumeTargetRun): no execution of it failed, so no close-abandoned-run event comes, and
 * its items and its target's lock would stay held until the lease ends, blocking the next run
 * there. It is finalized FAILED (nothing of it was deleted) and its lock released, through the
 * same Finalize code, so every target run ends final and every lock free. A run DELETING is a
 * child still working; its own execution's end closes it.
 */
function targetRunCloser(
  deps: FinalizeOrganizationRunDeps,
): (run: RunRecord | undefined) => Promise<RunRecord | undefined> {
  const finalize = createFinalizeHandler(deps as FinalizeDeps);
  return async (run) => {
    if (run?.status !== 'AWAITING_APPROVAL' || run.target === undefined) return run;
    await finalize({
      run,
      outcome: 'FAILED',
      error: {
        Error: 'PhaseNotRun',
        Cause: 'the organization run ended before this target run was resumed to delete or close',
      },
    });
    await deps.ledger.releaseLock(lockKeyOf(run, { region: run.target.region }), run.runId);
    (deps.logger ?? silentLogger).warn('closed a target run no phase child resumed', { runId: run.runId });
    return deps.ledger.getRun(run.runId);
  };
}

export const handler = lazyHandler(() =>
  createFinalizeOrganizationRunHandler({
    ledger: ledgerFromEnv(),
    pricePerGibMonth: getNumberFromEnv('SNAPSHOT_PRICE_PER_GIB_MONTH', { min: 0 }),
    now: () => new Date(),
    logger: createLogger('finalize-organization-run'),
  }),
);
