/**
 * ResolveTargets: the first state of an organization run. Validates the execution input exactly
 * as a run of one target does (buildRunContext), records the parent run, resolves the
 * deployment's targets (accounts, and OUs through AWS Organizations, recursively, at run time, so
 * new accounts join without a redeploy) and says which targets this run plans and which it reads
 * references from. Fails closed: an OU that cannot be listed fails the run before anything is
 * read in any target (a consumer left out would hide its references).
 */
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { clientConfig } from './adapters/clients.ts';
import type { Ledger } from './adapters/ledger/index.ts';
import { resolveTargets } from './adapters/organization.ts';
import type { RunWorkspace } from './adapters/workspace.ts';
import { lazyHandler, ledgerFromEnv, workspaceFromEnv } from './commons/deps.ts';
import {
  getHistoryBudgetFromEnv,
  getNumberFromEnv,
  getPlanSettingsFromEnv,
  getStringFromEnv,
} from './commons/env.ts';
import { classifyFailures } from './commons/errors.ts';
import { isRecord } from './commons/events.ts';
import { createLogger, type HandlerLogger, silentLogger } from './commons/logger.ts';
import {
  type AcquireLockEvent,
  buildRunContext,
  InvalidRunInputError,
  type RunInput,
} from './commons/run-input.ts';
import { writeReferenceTargets } from './commons/target-consumers.ts';
import {
  type OrganizationBudget,
  organizationHistoryProblem,
  organizationPayloadProblem,
  type PlannedTarget,
  plannedTarget,
  runScope,
  TargetScopeError,
} from './core/organization-run.ts';
import type { DeletionTreeBudget } from './core/quotas.ts';
import type { PlanSettings } from './core/settings.ts';
import {
  InvalidTargetError,
  type Target,
  target,
  type ValidTargetSelection,
  validateTargetSelection,
} from './core/target.ts';
import type { RunContext } from './core/workflow.ts';

export interface ResolveTargetsResult {
  readonly run: RunContext;
  /** The input every PlanTarget child gets (merged with its phase, target and parent run id). */
  readonly childInput: RunInput;
  /** Targets to plan, in target order. */
  readonly targets: readonly PlannedTarget[];
  /** Targets whose references count for the others of their region. */
  readonly referenceTargets: readonly Pick<Target, 'accountId' | 'region'>[];
}

export interface ResolveTargetsDeps {
  readonly ledger: Ledger;
  readonly workspace: RunWorkspace;
  readonly selection: ValidTargetSelection;
  /** Accounts × regions, the OUs' ACTIVE accounts included (a list of accounts needs no Organizations call). */
  readonly resolve: (selection: ValidTargetSelection) => Promise<Target[]>;
  readonly defaultSettings: PlanSettings;
  readonly maxDeletionsPerRun: number;
  readonly historyBudget: DeletionTreeBudget;
  /** The parent definition's worst case (ORGANIZATION_HISTORY_BUDGET, derived at synth). */
  readonly organizationBudget: OrganizationBudget;
  readonly logger?: HandlerLogger;
}

/** `target` in the input: only with `ami-available`, the new AMI's account and region. */
function triggerTarget(input: Record<string, unknown>): Target | undefined {
  if (input.target === undefined) return undefined;
  if (input.trigger !== 'ami-available')
    throw new InvalidRunInputError('target is only allowed with trigger "ami-available"');
  const given = isRecord(input.target) ? input.target : {};
  try {
    return target(given.accountId, given.region);
  } catch (error) {
    if (error instanceof InvalidTargetError) throw new InvalidRunInputError(`target: ${error.message}`);
    throw error;
  }
}

export function createResolveTargetsHandler(
  deps: ResolveTargetsDeps,
): (event: AcquireLockEvent) => Promise<ResolveTargetsResult> {
  const logger = deps.logger ?? silentLogger;
  return classifyFailures('ResolveTargets', async (event) => {
    const raw = isRecord(event) && isRecord(event.input) ? event.input : (event?.input ?? {});
    if (!isRecord(raw)) throw new InvalidRunInputError('the execution input must be a JSON object');
    const only = triggerTarget(raw);
    const { target: _scope, ...input } = raw;
    const run = buildRunContext({ ...event, input }, deps);
    await deps.ledger.putRun(run, { status: 'RUNNING' });

    const resolved = await deps.resolve(deps.selection);
    if (resolved.length === 0) throw new TargetScopeError('the selection resolved to no ACTIVE account');
    const scope = runScope(resolved, only);
    const tooMany = organizationHistoryProblem(deps.organizationBudget, scope.plan.length);
    if (tooMany) throw new TargetScopeError(tooMany);
    const childInput: RunInput = {
      trigger: run.trigger,
      dryRun: run.dryRun,
      maxDeletionsPerRun: run.maxDeletionsPerRun,
      settings: run.settings,
      ...(run.triggerImageId === undefined ? {} : { imageId: run.triggerImageId }),
    };
    const result = {
      run,
      childInput,
      targets: scope.plan.map((each) => plannedTarget(each, run.runId)),
      referenceTargets: scope.references.map(({ accountId, region }) => ({ accountId, region })),
    };
    // The Maps run their iterations as child executions, so the parent's history does not grow
    // with the targets; its state does (every target in it twice), within 256 KiB.
    const tooLarge = organizationPayloadProblem(result);
    if (tooLarge) throw new TargetScopeError(tooLarge);

    // If this execution is stopped, close-abandoned-run closes these target runs and frees their locks.
    await deps.ledger.updateRun(run.runId, { targetKeys: scope.plan.map((t) => t.key) });
    // Each target run's FilterInUse reads this to know its region's consumers (commons/target-consumers.ts).
    await writeReferenceTargets(deps.workspace, run.runId, scope.references);
    logger.info('targets resolved', {
      runId: run.runId,
      trigger: run.trigger,
      dryRun: run.dryRun,
      targets: scope.plan.length,
      referenceTargets: scope.references.length,
      resolvedTargets: resolved.length,
    });
    return result;
  });
}

/** TARGETS: the deployment's selection, checked at synth and again here (missing or bad → throw at cold start). */
export function getTargetSelectionFromEnv(name = 'TARGETS'): ValidTargetSelection {
  let parsed: unknown;
  try {
    parsed = JSON.parse(getStringFromEnv(name));
  } catch (error) {
    throw new Error(`${name} is not valid JSON`, { cause: error });
  }
  return validateTargetSelection((isRecord(parsed) ? parsed : {}) as never);
}

/** ORGANIZATION_HISTORY_BUDGET: `{ fixed, perTarget }` from the parent definition. */
export function getOrganizationBudgetFromEnv(name = 'ORGANIZATION_HISTORY_BUDGET'): OrganizationBudget {
  const parsed = JSON.parse(getStringFromEnv(name)) as Partial<OrganizationBudget>;
  const whole = (n: unknown, min: number): n is number =>
    typeof n === 'number' && Number.isInteger(n) && n >= min;
  if (!whole(parsed.fixed, 1) || !whole(parsed.perTarget, 0))
    throw new Error(`${name} must be {"fixed": n >= 1, "perTarget": n >= 0} with whole numbers`);
  return { fixed: parsed.fixed, perTarget: parsed.perTarget };
}

export const handler = lazyHandler(() => {
  const organizations = new OrganizationsClient(clientConfig());
  return createResolveTargetsHandler({
    ledger: ledgerFromEnv(),
    workspace: workspaceFromEnv(),
    selection: getTargetSelectionFromEnv(),
    resolve: (selection) => resolveTargets(organizations, selection),
    defaultSettings: getPlanSettingsFromEnv(),
    maxDeletionsPerRun: getNumberFromEnv('MAX_DELETIONS_PER_RUN', { integer: true, min: 0 }),
    historyBudget: getHistoryBudgetFromEnv(),
    organizationBudget: getOrganizationBudgetFromEnv(),
    logger: createLogger('resolve-targets'),
  });
});
