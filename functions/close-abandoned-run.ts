/**
 * CloseAbandonedRun: the EventBridge target for "Step Functions Execution Status Change" events
 * of this state machine with status FAILED, TIMED_OUT or ABORTED.
 *
 * The definition's Catch paths finalize every run they can catch. Some endings are not catchable:
 * - an execution that hits its own TimeoutSeconds;
 * - an execution that someone stops;
 * - States.Runtime.
 * Any of these can leave ledger items APPROVED or DEREGISTERED, and the lock held until its lease
 * ends. This function gives those items a final status (FAILED, with the reason) and releases the
 * lock, through the same Finalize and ReleaseLock code the workflow uses (invariant 5).
 * A run that already reached a final status is left as it is. The lock is released in every case
 * (an AcquireLock that died after taking it leaves no run to close, or a RUNNING one).
 */

import type { RunRecord } from './adapters/ledger/runs.ts';
import { PowertoolsRunMetrics } from './adapters/run-metrics.ts';
import { lazyHandler, ledgerFromEnv, regionFromEnv } from './commons/deps.ts';
import { getNumberFromEnv } from './commons/env.ts';
import { classifyFailures, InvalidEventError } from './commons/errors.ts';
import { isRecord, RUN_ID } from './commons/events.ts';
import { createLogger, silentLogger } from './commons/logger.ts';
import { targetRunId } from './core/organization-run.ts';
import { lockKeyOf, type RunPlace } from './core/run-target.ts';
import { parseTargetKey, type Target, target } from './core/target.ts';
import type { RunStatus } from './core/workflow.ts';
import { createFinalizeHandler, type FinalizeDeps } from './finalize.ts';

export interface ExecutionStatusChangeEvent {
  readonly source: 'aws.states';
  readonly 'detail-type': 'Step Functions Execution Status Change';
  readonly detail: {
    readonly executionArn: string;
    readonly name: string;
    readonly status: string;
    /** The execution's input (JSON), as Step Functions puts it in the event: a target run's target and parent. */
    readonly input?: string;
  };
}

export interface CloseAbandonedRunResult {
  readonly runId: string;
  readonly outcome: 'closed' | 'already-final' | 'unknown-run';
}

export type CloseAbandonedRunDeps = FinalizeDeps & { readonly region: string };

const ABNORMAL = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);
/** A run in one of these was still working when its execution ended. */
const UNFINISHED: ReadonlySet<RunStatus> = new Set(['RUNNING', 'AWAITING_APPROVAL', 'DELETING']);

export function createCloseAbandonedRunHandler(
  deps: CloseAbandonedRunDeps,
): (event: ExecutionStatusChangeEvent) => Promise<CloseAbandonedRunResult> {
  const logger = deps.logger ?? silentLogger;
  const finalize = createFinalizeHandler(deps);
  return classifyFailures('CloseAbandonedRun', async (event) => {
    const detail = isRecord(event) && isRecord(event.detail) ? event.detail : undefined;
    const name = typeof detail?.name === 'string' ? detail.name : '';
    const status = typeof detail?.status === 'string' ? detail.status : '';
    if (!RUN_ID.test(name) || !ABNORMAL.has(status)) {
      throw new InvalidEventError('expected an execution status change to FAILED, TIMED_OUT or ABORTED');
    }
    const { runId, place } = abandonedRun(name, detail as Record<string, unknown>);
    // The lock is released whatever the ledger says (even with no run recorded, or when closing
    // the items fails): the lock's owner is the run id, so only this run's lock goes.
    let run: RunRecord | undefined;
    try {
      run = await deps.ledger.getRun(runId);
      if (!run) return { runId, outcome: 'unknown-run' };
      if (!UNFINISHED.has(run.status)) return { runId, outcome: 'already-final' };
      const ended = {
        Error: 'ExecutionEnded',
        Cause: `the execution ended ${status} before the run finished`,
      };
      await finalize({ run, outcome: 'FAILED', error: ended });
      // An organization run's target runs may wait for a decision that will never come: close them too.
      const closedTargets = await closeTargetRuns(deps, finalize, run, ended);
      logger.warn('closed a run its execution abandoned', { runId, status, closedTargets });
      return { runId, outcome: 'closed' };
    } finally {
      // Harmless when another run holds the lock, or nobody does. The key from the run record
      // when there is one (it was written from the validated input), else from the event.
      const lockKey = lockKeyOf(run ?? place, deps);
      await deps.ledger.releaseLock(lockKey, runId);
    }
  });
}

/** Closes every unfinished target run of an organization run (FAILED, lock released); returns how many. */
async function closeTargetRuns(
  deps: CloseAbandonedRunDeps,
  finalize: ReturnType<typeof createFinalizeHandler>,
  parent: RunRecord,
  error: { Error: string; Cause: string },
): Promise<number> {
  let closed = 0;
  for (const key of parent.targetKeys ?? []) {
    const each = parseTargetKey(key);
    const childRunId = targetRunId(each, parent.runId);
    const child = await deps.ledger.getRun(childRunId);
    if (child && UNFINISHED.has(child.status)) {
      await finalize({ run: child, outcome: 'FAILED', error });
      closed += 1;
    }
    await deps.ledger.releaseLock(lockKeyOf(child ?? { executionArn: '', target: each }, deps), childRunId);
  }
  return closed;
}

/**
 * The run an ended execution worked for. A target run's child executions are named after the run
 * plus a phase (`targetPhaseExecutionName(target, parentRunId, 'plan')`, …), so the run id is
 * rebuilt from the execution's input (`target`, `parentRunId`), and only for a name that starts
 * with that target's key; any other execution's run id is its name.
 */
function abandonedRun(
  name: string,
  detail: Readonly<Record<string, unknown>>,
): { runId: string; place: RunPlace } {
  const executionArn = typeof detail.executionArn === 'string' ? detail.executionArn : '';
  let input: unknown;
  try {
    input = typeof detail.input === 'string' ? JSON.parse(detail.input) : undefined;
  } catch {
    input = undefined;
  }
  if (!isRecord(input) || !isRecord(input.target) || typeof input.parentRunId !== 'string')
    return { runId: name, place: { executionArn } };
  let each: Target;
  try {
    each = target(input.target.accountId, input.target.region);
  } catch (error) {
    throw new InvalidEventError(`the execution's target is not valid: ${(error as Error).message}`);
  }
  if (!RUN_ID.test(input.parentRunId) || !name.startsWith(`${each.key}-`))
    throw new InvalidEventError("the execution's name does not belong to its target run");
  return {
    runId: targetRunId(each, input.parentRunId),
    place: { executionArn, target: { accountId: each.accountId, region: each.region } },
  };
}

export const handler = lazyHandler(() =>
  createCloseAbandonedRunHandler({
    ledger: ledgerFromEnv(),
    region: regionFromEnv(),
    pricePerGibMonth: getNumberFromEnv('SNAPSHOT_PRICE_PER_GIB_MONTH', { min: 0 }),
    now: () => new Date(),
    logger: createLogger('close-abandoned-run'),
    metrics: new PowertoolsRunMetrics(),
  }),
);
