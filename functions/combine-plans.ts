/**
 * CombinePlans: after every target's plan phase, builds the organization run's one plan. Each
 * target run is read from the ledger, never from the Map's output: a target run awaits the
 * decision when its plan phase ended with a recorded plan (RUNNING, plan hash and key set) and
 * that plan document still hashes to it. Only those targets' plans are combined
 * (`combineTargetPlans`: grouped by account and region, one hash over every target's deletion
 * set), written to the parent's workspace and recorded on the parent run; the target runs are
 * marked AWAITING_APPROVAL. Targets that finished on their own (dry run, nothing to delete,
 * skipped because locked, failed) are left as they are.
 */
import { mapWithConcurrency } from './adapters/concurrency.ts';
import type { Ledger } from './adapters/ledger/index.ts';
import { type RunWorkspace, runKey } from './adapters/workspace.ts';
import { lazyHandler, ledgerFromEnv, workspaceFromEnv } from './commons/deps.ts';
import { classifyFailures } from './commons/errors.ts';
import { PLAN_HASH, requirePlannedTargets, requireRecord, requireRun } from './commons/events.ts';
import { createLogger, type HandlerLogger, silentLogger } from './commons/logger.ts';
import type { Plan } from './core/model.ts';
import type { PlannedTarget } from './core/organization-run.ts';
import { combineTargetPlans, hashPlanDeletion } from './core/plan-targets.ts';

export interface CombinePlansEvent {
  readonly run: unknown;
  readonly targets: unknown;
}

export interface CombinePlansResult {
  /** Absent when no target awaits a decision. */
  readonly planKey: string | null;
  readonly planHash: string | null;
  /** The targets whose plans the approval covers, in target order. */
  readonly awaiting: readonly PlannedTarget[];
  readonly awaitingCount: number;
}

export interface CombinePlansDeps {
  readonly ledger: Pick<Ledger, 'getRun' | 'updateRun'>;
  readonly workspace: RunWorkspace;
  readonly now: () => Date;
  readonly logger?: HandlerLogger;
}

export class PlanNotCombinedError extends Error {
  override readonly name = 'PlanNotCombinedError';
}

/** Ledger reads in flight at once (one GetItem per target). */
const READ_CONCURRENCY = 8;

export function createCombinePlansHandler(
  deps: CombinePlansDeps,
): (event: CombinePlansEvent) => Promise<CombinePlansResult> {
  const logger = deps.logger ?? silentLogger;
  return classifyFailures('CombinePlans', async (event) => {
    const record = requireRecord(event, 'event');
    const run = requireRun(record.run);
    const targets = requirePlannedTargets(record.targets, run.runId);

    const read = await mapWithConcurrency(targets, READ_CONCURRENCY, async (each) => {
      const child = await deps.ledger.getRun(each.planned.runId);
      const awaiting =
        child?.status === 'RUNNING' &&
        child.parentRunId === run.runId &&
        child.target?.accountId === each.planned.accountId &&
        child.target.region === each.planned.region &&
        typeof child.planHash === 'string' &&
        PLAN_HASH.test(child.planHash) &&
        typeof child.planKey === 'string';
      if (!awaiting) return { each, status: child?.status ?? 'NOT_STARTED' };
      const plan = await deps.workspace.getJson<Plan>(child.planKey as string);
      if (plan.planHash !== child.planHash || hashPlanDeletion(plan) !== child.planHash)
        throw new PlanNotCombinedError(
          `the plan of ${each.place.key} no longer hashes to the one its run recorded`,
        );
      return { each, status: 'AWAITING_APPROVAL', plan };
    });
    const awaiting = read.filter((r) => r.plan !== undefined);
    if (awaiting.length === 0) {
      logger.info('no target awaits a decision', {
        runId: run.runId,
        targets: JSON.stringify(statusCounts(read)),
      });
      return { planKey: null, planHash: null, awaiting: [], awaitingCount: 0 };
    }

    const combined = combineTargetPlans(
      awaiting.map((r) => r.plan as Plan),
      deps.now().toISOString(),
    );
    // Always a plan of targets, even of one: the page then knows it is an organization run's (its
    // region need not be the hub's), and the hash of one target's plan is that target's hash.
    const plan: Plan =
      combined.targets === undefined
        ? {
            ...combined,
            targets: [{ accountId: awaiting[0]?.each.planned.accountId as string, region: combined.region }],
          }
        : combined;
    const planKey = runKey(run.runId, 'plan');
    await deps.workspace.putJson(planKey, plan);
    await deps.ledger.updateRun(run.runId, { planHash: plan.planHash, planKey });
    for (const { each } of awaiting) {
      const marked = await deps.ledger.updateRun(
        each.planned.runId,
        { status: 'AWAITING_APPROVAL' },
        // A retried CombinePlans finds them marked already.
        { from: ['RUNNING', 'AWAITING_APPROVAL'] },
      );
      if (!marked)
        throw new PlanNotCombinedError(`the run of ${each.place.key} changed while its plan was combined`);
    }
    logger.info('plans combined', {
      runId: run.runId,
      planHash: plan.planHash,
      awaiting: awaiting.length,
      targets: JSON.stringify(statusCounts(read)),
    });
    return {
      planKey,
      planHash: plan.planHash,
      awaiting: awaiting.map((r) => r.each.planned),
      awaitingCount: awaiting.length,
    };
  });
}

function statusCounts(read: readonly { status: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { status } of read) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

export const handler = lazyHandler(() =>
  createCombinePlansHandler({
    ledger: ledgerFromEnv(),
    workspace: workspaceFromEnv(),
    now: () => new Date(),
    logger: createLogger('combine-plans'),
  }),
);
