/**
 * RecordPlan: writes every candidate (PLANNED, or DEFERRED beyond the per-run cap), every kept
 * AMI (KEPT, with its reason; DEFERRED for MAX_DELETIONS_PER_RUN, which Rotate left for a later
 * run) and every orphan snapshot to the ledger, bound to the plan hash.
 */
import type { Ledger } from './adapters/ledger/index.ts';
import type { RunWorkspace } from './adapters/workspace.ts';
import { lazyHandler, ledgerFromEnv, workspaceFromEnv } from './commons/deps.ts';
import { classifyFailures } from './commons/errors.ts';
import { PLAN_HASH, requireRecord, requireRun, requireString } from './commons/events.ts';
import { createLogger, type HandlerLogger, silentLogger } from './commons/logger.ts';
import type { Plan } from './core/model.ts';
import type { RunContext } from './core/workflow.ts';

export interface RecordPlanEvent {
  readonly run: RunContext;
  readonly planKey: string;
  readonly planHash: string;
}

export interface RecordPlanHandlerResult {
  readonly planHash: string;
  /** Candidates (AMIs + orphan snapshots) recorded PLANNED: what the approval covers. */
  readonly toDelete: number;
  /**
   * Items beyond maxDeletionsPerRun, recorded DEFERRED and left for a later run: candidates over
   * the cap, and AMIs Rotate kept as MAX_DELETIONS_PER_RUN.
   */
  readonly deferred: number;
  readonly kept: number;
}

export interface RecordPlanDeps {
  readonly ledger: Ledger;
  readonly workspace: RunWorkspace;
  readonly logger?: HandlerLogger;
}

/** The plan in the workspace is not the one the Rotate state reported. Nothing was recorded. */
export class PlanMismatchError extends Error {
  override readonly name = 'PlanMismatchError';
}

export function createRecordPlanHandler(
  deps: RecordPlanDeps,
): (event: RecordPlanEvent) => Promise<RecordPlanHandlerResult> {
  const logger = deps.logger ?? silentLogger;
  return classifyFailures('RecordPlan', async (event) => {
    const record = requireRecord(event, 'event');
    const run = requireRun(record.run);
    const planKey = requireString(record, 'planKey');
    const planHash = requireString(record, 'planHash', PLAN_HASH);
    const plan = await deps.workspace.getJson<Plan>(planKey);
    if (plan.planHash !== planHash) {
      throw new PlanMismatchError(`plan at ${planKey} has hash ${plan.planHash}, expected ${planHash}`);
    }
    // A target run records only a plan of its own target (Rotate stamps it): never another account's.
    if (
      run.target !== undefined &&
      (plan.region !== run.target.region || plan.accountId !== run.target.accountId)
    ) {
      throw new PlanMismatchError(
        `plan at ${planKey} is for ${plan.accountId ?? 'an unknown account'} in ${plan.region}, not this run's target`,
      );
    }
    const recorded = await deps.ledger.recordPlan(run, plan, { maxDeletionsPerRun: run.maxDeletionsPerRun });
    // recordPlan binds the run to the hash; the key lets the approval page and audits find the plan.
    await deps.ledger.updateRun(run.runId, { planKey });
    const result: RecordPlanHandlerResult = {
      planHash: recorded.planHash,
      toDelete: recorded.toDelete,
      deferred: recorded.deferred,
      kept: recorded.kept,
    };
    logger.info('plan recorded', { runId: run.runId, ...result, written: recorded.written });
    return result;
  });
}

export const handler = lazyHandler(() =>
  createRecordPlanHandler({
    ledger: ledgerFromEnv(),
    workspace: workspaceFromEnv(),
    logger: createLogger('record-plan'),
  }),
);
