/**
 * `amicleaner plan --accounts/--ou --regions`: the one-shot plan of `plan-account.ts`, in each
 * target through the member role (the caller's own account and region with its own clients).
 * Read-only. Fail closed: a target that cannot be read (role denied, a failed page) stops the
 * command with exit 2 and names the target; no partial list of plans is printed.
 *
 * Each target is planned on its own: an AMI of one target that another target's resources use
 * is shown here as a candidate, while the workflow (`run`, also `run --dry-run`) keeps it,
 * because its planning unions the references of every target of a region first.
 */
import { mapWithConcurrency } from '../functions/adapters/concurrency.ts';
import { safeErrorMessage } from '../functions/adapters/errors.ts';
import type { Plan } from '../functions/core/model.ts';
import type { PlanSettings } from '../functions/core/settings.ts';
import type { Target } from '../functions/core/target.ts';
import { AccountUnreachableError } from './errors.ts';
import type { OrganizationEnvironment } from './organization-environment.ts';
import { planAccount } from './plan-account.ts';

/** Targets planned at once: each has its own EC2 buckets; four keeps STS and the laptop calm. */
export const PLAN_TARGETS_CONCURRENCY = 4;

export interface TargetPlan {
  readonly target: Target;
  readonly plan: Plan;
}

export async function planTargets(
  organization: OrganizationEnvironment,
  settings: PlanSettings,
  options: { readonly now: () => Date; readonly maxDeletionsPerRun: number },
): Promise<TargetPlan[]> {
  let targets: Target[];
  try {
    targets = await organization.resolveTargets();
  } catch (error) {
    throw new AccountUnreachableError(
      `cannot resolve the targets: ${safeErrorMessage(error)}; nothing was planned`,
      { cause: error },
    );
  }
  const runId = `cli-plan-${options
    .now()
    .toISOString()
    .replace(/[^0-9]/g, '')}`;
  return mapWithConcurrency(targets, PLAN_TARGETS_CONCURRENCY, async (each) => {
    try {
      const plan = await planAccount(organization.clientsFor(each, runId), settings, {
        region: each.region,
        now: options.now,
        maxDeletionsPerRun: options.maxDeletionsPerRun,
      });
      return { target: each, plan };
    } catch (error) {
      throw new AccountUnreachableError(
        `cannot plan account ${each.accountId} in ${each.region}: ${safeErrorMessage(error)}; nothing was planned`,
        { cause: error },
      );
    }
  });
}
