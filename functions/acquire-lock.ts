/**
 * AcquireLock: the first state. Validates the execution input strictly (nothing is read or
 * deleted on bad input), builds the run context every later state receives as `$.run`, and takes
 * the lock of the run's account and region (`lockKeyOf`) so two runs never work on the same
 * account and region at once.
 *
 * The run is recorded before the lock is taken, so a lock never exists without a run that
 * close-abandoned-run can close; a failure after taking the lock releases it before rethrowing,
 * and close-abandoned-run releases it again if this Lambda died instead (docs/DESIGN.md).
 */
import type { Ledger } from './adapters/ledger/index.ts';
import { lazyHandler, ledgerFromEnv, regionFromEnv } from './commons/deps.ts';
import { getHistoryBudgetFromEnv, getNumberFromEnv, getPlanSettingsFromEnv } from './commons/env.ts';
import { classifyFailures } from './commons/errors.ts';
import { createLogger, type HandlerLogger, silentLogger } from './commons/logger.ts';
import { type AcquireLockEvent, buildRunContext } from './commons/run-input.ts';
import type { DeletionTreeBudget } from './core/quotas.ts';
import { lockKeyOf } from './core/run-target.ts';
import type { PlanSettings } from './core/settings.ts';
import type { RunContext } from './core/workflow.ts';

export {
  type AcquireLockEvent,
  buildRunContext,
  InvalidRunInputError,
  type RunInput,
  runStateEstimate,
} from './commons/run-input.ts';

export interface AcquireLockResult {
  /** False when another run holds this account and region's lock; the execution then ends without touching anything. */
  readonly acquired: boolean;
  readonly run: RunContext;
}

export interface AcquireLockDeps {
  readonly ledger: Ledger;
  readonly region: string;
  /** DEFAULT_PLAN_SETTINGS, validated. */
  readonly defaultSettings: PlanSettings;
  /** MAX_DELETIONS_PER_RUN: the ceiling an execution input may only lower. */
  readonly maxDeletionsPerRun: number;
  readonly lockTtlSeconds: number;
  /** The definitions' worst-case history events (HISTORY_BUDGET, derived from the ASL at synth). */
  readonly historyBudget: DeletionTreeBudget;
  readonly now: () => Date;
  readonly logger?: HandlerLogger;
}

export function createAcquireLockHandler(
  deps: AcquireLockDeps,
): (event: AcquireLockEvent) => Promise<AcquireLockResult> {
  const logger = deps.logger ?? silentLogger;
  return classifyFailures('AcquireLock', async (event) => {
    const run = buildRunContext(event, deps);
    // The run first: whatever fails later, close-abandoned-run finds a run to close.
    await deps.ledger.putRun(run, { status: 'RUNNING' });
    const lockKey = lockKeyOf(run, deps);
    const acquired = await deps.ledger.acquireLock(lockKey, run.runId, deps.lockTtlSeconds, deps.now());
    if (!acquired) {
      // Recorded so the skipped start is visible in the ledger; the lock holder is untouched.
      await deps.ledger.updateRun(run.runId, {
        status: 'SKIPPED_LOCKED',
        finishedAt: deps.now().toISOString(),
      });
    }
    logger.info(acquired ? 'run started' : 'run skipped: another run holds the lock', {
      runId: run.runId,
      trigger: run.trigger,
      dryRun: run.dryRun,
      triggerImageId: run.triggerImageId,
      lock: lockKey,
      ...(run.parentRunId === undefined ? {} : { parentRunId: run.parentRunId }),
    });
    return { acquired, run };
  });
}

export const handler = lazyHandler(() =>
  createAcquireLockHandler({
    ledger: ledgerFromEnv(),
    region: regionFromEnv(),
    defaultSettings: getPlanSettingsFromEnv(),
    maxDeletionsPerRun: getNumberFromEnv('MAX_DELETIONS_PER_RUN', { integer: true, min: 0 }),
    lockTtlSeconds: getNumberFromEnv('LOCK_TTL_SECONDS', { integer: true, min: 1 }),
    historyBudget: getHistoryBudgetFromEnv(),
    now: () => new Date(),
    logger: createLogger('acquire-lock'),
  }),
);
