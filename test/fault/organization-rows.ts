/**
 * What a hand-written fault row of the organization workflow checks after its one run: the
 * invariants every generated row checks (brokenOrganizationInvariants), measured against this
 * run's own approved plan (nothing deleted outside it, nothing stranded, every run and item final,
 * every lock free, no deletion without the APPROVED approval), and which targets deleted.
 */
import type { Plan } from '../../functions/core/model.ts';
import type { Target } from '../../functions/core/target.ts';
import type { OrganizationExecution, OrganizationHarness } from '../workflow/organization-harness.ts';
import { deletionsSince } from './matrix.ts';
import { brokenOrganizationInvariants, type OrganizationReference } from './organization-matrix.ts';

/** The parent's combined plan, if the run got that far. */
export async function combinedPlanOf(h: OrganizationHarness, runId: string): Promise<Plan | undefined> {
  const key = (await h.ledger.getRun(runId))?.planKey;
  return key ? h.stack.workspace.getJson<Plan>(key) : undefined;
}

/** AMI ids of `each` in `plan` (none without a plan). */
export function plannedIn(plan: Plan | undefined, each: Target): string[] {
  return (plan?.groups ?? [])
    .filter((g) => g.accountId === each.accountId && g.region === each.region)
    .flatMap((g) => g.candidates.map((c) => c.imageId));
}

/** What the run may delete: its approved plan's candidates and their snapshots, per target. */
async function approvedReference(h: OrganizationHarness, runId: string): Promise<OrganizationReference> {
  const plan = await combinedPlanOf(h, runId);
  const byTarget = new Map(
    h.targets.map((each) => {
      const candidates = (plan?.groups ?? [])
        .filter((g) => g.accountId === each.accountId && g.region === each.region)
        .flatMap((g) => g.candidates);
      return [
        each.key,
        {
          images: [],
          snapshots: [],
          approvedImages: new Set(candidates.map((c) => c.imageId)),
          approvedSnapshots: new Set(candidates.flatMap((c) => c.snapshots.map((s) => s.snapshotId))),
        },
      ];
    }),
  );
  return { byTarget, untouchable: new Set(h.scenario.usedByOtherAccounts.map((u) => u.imageId)) };
}

/** The broken invariants after `execution` (the harness answered its one approval with APPROVE). */
export async function brokenRowInvariants(
  h: OrganizationHarness,
  execution: OrganizationExecution,
): Promise<string[]> {
  const { status, error, closeErrors } = execution.result;
  return brokenOrganizationInvariants(
    { harness: h },
    {
      runId: execution.runId,
      status,
      ...(error ? { error: `${error.error}: ${error.cause}` } : {}),
      verdict: execution.approvals.length > 0 ? 'approved' : 'not-asked',
      closeErrors: closeErrors ?? [],
    },
    await approvedReference(h, execution.runId),
    new Map(),
    { ownApprovalRequired: true },
  );
}

/** AMIs deregistered in `each` so far. */
export function deregisteredIn(h: OrganizationHarness, each: Target): string[] {
  return deletionsSince(h.organization.account(each.accountId, each.region), 0).images;
}

/**
 * Targets the fault left alone: each deleted exactly its part of the approved plan and its run
 * ended as a fault-free one does. Returns how many deleted something.
 */
export async function unaffected(
  h: OrganizationHarness,
  execution: OrganizationExecution,
  targets: readonly Target[],
): Promise<{ broken: string[]; deleting: number }> {
  const plan = await combinedPlanOf(h, execution.runId);
  const broken: string[] = [];
  let deleting = 0;
  for (const each of targets) {
    const planned = plannedIn(plan, each).sort();
    const gone = deregisteredIn(h, each).sort();
    if (gone.join() !== planned.join()) broken.push(`${each.key}: deregistered ${gone}, planned ${planned}`);
    if (gone.length > 0) deleting += 1;
    const status = (await h.targetRun(execution.runId, each))?.status;
    const want = planned.length > 0 ? 'COMPLETED' : 'NOTHING_TO_DELETE';
    if (status !== want) broken.push(`${each.key}: run ended ${status}, not ${want}`);
  }
  return { broken, deleting };
}
