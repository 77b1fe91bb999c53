/**
 * Hand-written fault rows of the organization workflow about a target account the hub loses: its
 * member role denied (at reference collection, at plan, as a consumer at deregistration), the
 * account closed (after its targets were resolved, while the plan waits) or moved out of the
 * selected OUs, and an OU that cannot be listed. Named like the generated rows (`fault: <state> ×
 * <service> × <fault> × <position> × organization`); each checks brokenRowInvariants (the
 * generated rows' invariants against this run's approved plan) and what the fault's own targets
 * and the others did. The role denied at deletion and the usage report that never completes are
 * rows of test/workflow/organization-faults.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SimulatedOrganization } from '../../cli/simulated-account/organization.ts';
import type { OrganizationScenario } from '../../cli/simulated-account/organization-seeds.ts';
import { target } from '../../functions/core/target.ts';
import { FAULT_PREFIX } from '../hostile/count.ts';
import { type OrganizationHarness, startOrganizationHarness } from '../workflow/organization-harness.ts';
import { brokenRowInvariants, deregisteredIn, unaffected } from './organization-rows.ts';

/** An organization run (six targets) on a loaded 2-core machine. */
const ROW_TIMEOUT_MS = 120_000;
const row = (what: string, outcome: string) => `${FAULT_PREFIX} ${what} × organization (${outcome})`;

let harness: OrganizationHarness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

/** The member role of `accountId` trusts another hub account (a role changed by its owner). */
function distrust(organization: SimulatedOrganization, scenario: OrganizationScenario, accountId: string) {
  organization.addRole(accountId, scenario.roleName, {
    hubAccountId: '999999999999',
    hubPrincipalArns: ['arn:aws:iam::999999999999:role/AmiCleaner*'],
  });
}

/** The member role of `accountId` trusts the hub again, as organizationScenario made it. */
function trustAgain(organization: SimulatedOrganization, scenario: OrganizationScenario, accountId: string) {
  organization.addRole(accountId, scenario.roleName, {
    hubAccountId: organization.managementAccountId,
    hubPrincipalArns: [`arn:aws:iam::${organization.managementAccountId}:role/AmiCleaner*`],
  });
}

/** Items of `each`'s target run kept for a consumer it could not read. */
async function keptUnreadable(h: OrganizationHarness, runId: string, accountId: string, region: string) {
  const run = await h.targetRun(runId, target(accountId, region));
  const items = await h.ledger.listItems(run?.runId as string);
  return items.filter((i) => i.status === 'KEPT' && i.reason === 'CONSUMER_UNREADABLE');
}

/**
 * The lost account's targets: nothing of them deregistered, each run with a plan FAILED saying
 * `why`, no item of it done. Returns how many had something planned.
 */
async function expectFailedAlone(h: OrganizationHarness, runId: string, accountId: string, why: RegExp) {
  let failed = 0;
  for (const each of h.targets.filter((t) => t.accountId === accountId)) {
    expect(deregisteredIn(h, each)).toEqual([]);
    const run = await h.targetRun(runId, each);
    if (run?.status === 'NOTHING_TO_DELETE') continue;
    failed += 1;
    expect(run?.status).toBe('FAILED');
    expect(`${run?.error}`).toMatch(why);
    const items = await h.ledger.listItems(run?.runId as string);
    expect(items.filter((i) => ['DONE', 'DEREGISTERED'].includes(i.status))).toEqual([]);
  }
  return failed;
}

/** Every target but the golden account's (and `except`'s). */
const notGolden = (h: OrganizationHarness, except?: string) =>
  h.targets.filter((t) => t.accountId !== h.scenario.golden.accountId && t.accountId !== except);

/**
 * The golden account's shared AMIs, re-checked at deregistration in a consumer the hub can no
 * longer read: none deregistered, each image item FAILED saying the role could not be assumed
 * there, each golden run COMPLETED_WITH_FAILURES.
 */
async function expectSharedKeptFor(h: OrganizationHarness, runId: string, consumer: string) {
  for (const region of h.scenario.regions) {
    const golden = target(h.scenario.golden.accountId, region);
    expect(deregisteredIn(h, golden)).toEqual([]);
    const run = await h.targetRun(runId, golden);
    expect(run?.status).toBe('COMPLETED_WITH_FAILURES');
    const images = (await h.ledger.listItems(run?.runId as string)).filter((i) => i.kind === 'IMAGE');
    const failed = images.filter((i) => i.status === 'FAILED');
    expect(failed.length).toBeGreaterThan(0);
    for (const item of failed) expect(JSON.stringify(item)).toContain(consumer);
  }
}

describe('organization run: a target account the hub loses', () => {
  it(
    row(
      'CollectTargetReferences × STS × assume-role-denied × one consumer, trusted again by its plan',
      "its region's shared AMIs kept as CONSUMER_UNREADABLE; its own plan and the other region delete",
    ),
    async () => {
      // Prepare: workload A's role refuses the hub while references are collected, then trusts
      // it again (a role its owner fixed) before the first plan child starts.
      let workloadA = '';
      harness = await startOrganizationHarness({
        prepare: (organization, scenario) => {
          workloadA = scenario.workloads[0]?.accountId as string;
          distrust(organization, scenario, workloadA);
        },
      });
      const h = harness;
      const golden = h.scenario.golden.accountId;

      // Act
      const execution = await h.run({
        executionName: 'org-refs-denied',
        aroundChildStart: (state, _child, start) => {
          if (state === 'PlanTarget') trustAgain(h.organization, h.scenario, workloadA);
          return start();
        },
      });

      // Assess
      expect(await brokenRowInvariants(h, execution)).toEqual([]);
      expect(execution.result.status).toBe('SUCCEEDED');
      const kept = await keptUnreadable(h, execution.runId, golden, 'eu-west-1');
      expect(kept.length).toBeGreaterThan(0);
      for (const item of kept) expect(JSON.stringify(item)).toContain(workloadA);
      expect(deregisteredIn(h, target(golden, 'eu-west-1'))).toEqual([]);
      const others = h.targets.filter((t) => !(t.accountId === golden && t.region === 'eu-west-1'));
      const { broken, deleting } = await unaffected(h, execution, others);
      expect(broken).toEqual([]);
      // Workload A's own AMIs and the golden account's in us-east-1.
      expect(deleting).toBeGreaterThanOrEqual(2);
      expect(deregisteredIn(h, target(workloadA, 'eu-west-1')).length).toBeGreaterThan(0);
    },
    ROW_TIMEOUT_MS,
  );

  it(
    row(
      'CollectTargetReferences, PlanTarget × STS × assume-role-denied × one account from the start',
      'its targets fail alone with AssumeRoleError; the shared AMIs it might run kept; the others delete',
    ),
    async () => {
      // Prepare: workload B's role trusts another hub account.
      let denied = '';
      harness = await startOrganizationHarness({
        prepare: (organization, scenario) => {
          denied = scenario.workloads[1]?.accountId as string;
          distrust(organization, scenario, denied);
        },
      });
      const h = harness;

      // Act
      const execution = await h.run({ executionName: 'org-denied' });

      // Assess
      expect(await brokenRowInvariants(h, execution)).toEqual([]);
      expect(execution.result.status).toBe('SUCCEEDED');
      const failed = await expectFailedAlone(h, execution.runId, denied, /AssumeRoleError/);
      expect(failed).toBe(h.targets.filter((t) => t.accountId === denied).length);
      // It is a consumer of the golden AMIs in both regions: none it might run is deleted.
      for (const region of h.scenario.regions) {
        const kept = await keptUnreadable(h, execution.runId, h.scenario.golden.accountId, region);
        expect(kept.length).toBeGreaterThan(0);
        for (const item of kept) expect(JSON.stringify(item)).toContain(denied);
      }
      const { broken, deleting } = await unaffected(
        h,
        execution,
        h.targets.filter((t) => t.accountId !== denied),
      );
      expect(broken).toEqual([]);
      expect(deleting).toBeGreaterThan(0);
      const parent = await h.ledger.getRun(execution.runId);
      expect(parent?.status).toBe('COMPLETED_WITH_FAILURES');
      expect(parent?.summary?.failedTargets).toBe(failed);
    },
    ROW_TIMEOUT_MS,
  );

  it(
    row(
      'CollectTargetReferences, PlanTarget × STS × account-closed × after its targets were resolved',
      'its reference read and plans fail with AssumeRoleError; the shared AMIs it might run kept; the others delete',
    ),
    async () => {
      // Prepare: workload A is closed once ResolveTargets named its targets (the first
      // CollectTargetReferences invocation).
      let closed = false;
      const late = {
        attach: () => undefined,
        within: <R>(state: string, invoke: () => Promise<R>) => {
          if (state === 'CollectTargetReferences' && !closed) {
            closed = true;
            h.organization.closeAccount(h.scenario.workloads[0]?.accountId as string);
          }
          return invoke();
        },
      };
      harness = await startOrganizationHarness({ instrument: late });
      const h = harness;
      const gone = h.scenario.workloads[0]?.accountId as string;

      // Act
      const execution = await h.run({ executionName: 'org-closed-early' });

      // Assess
      expect(closed).toBe(true);
      expect(await brokenRowInvariants(h, execution)).toEqual([]);
      expect(await expectFailedAlone(h, execution.runId, gone, /AssumeRoleError/)).toBeGreaterThan(0);
      const kept = await keptUnreadable(h, execution.runId, h.scenario.golden.accountId, 'eu-west-1');
      expect(kept.length).toBeGreaterThan(0);
      const others = h.targets.filter(
        (t) =>
          t.accountId !== gone && !(t.accountId === h.scenario.golden.accountId && t.region === 'eu-west-1'),
      );
      const { broken, deleting } = await unaffected(h, execution, others);
      expect(broken).toEqual([]);
      expect(deleting).toBeGreaterThan(0);
      expect((await h.ledger.getRun(execution.runId))?.status).toBe('COMPLETED_WITH_FAILURES');
    },
    ROW_TIMEOUT_MS,
  );

  it(
    row(
      'DeleteTarget × STS × account-closed × while the plan waits for approval',
      'its targets fail, nothing of it deleted; the golden AMIs it might run kept at deregistration; the others delete',
    ),
    async () => {
      // Prepare
      harness = await startOrganizationHarness();
      const h = harness;
      const gone = h.scenario.workloads[0]?.accountId as string;

      // Act: the account is closed after planning; its sessions end with it.
      const execution = await h.run({
        executionName: 'org-closed',
        beforeAnswer: () => h.organization.closeAccount(gone),
      });

      // Assess
      expect(await brokenRowInvariants(h, execution)).toEqual([]);
      const failed = await expectFailedAlone(h, execution.runId, gone, /ExpiredToken|AssumeRole|FAILED/);
      expect(failed).toBeGreaterThan(0);
      // It was a consumer of the golden AMIs in both regions: their re-check cannot read it.
      await expectSharedKeptFor(h, execution.runId, gone);
      const { broken, deleting } = await unaffected(h, execution, notGolden(h, gone));
      expect(broken).toEqual([]);
      expect(deleting).toBeGreaterThan(0);
      const parent = await h.ledger.getRun(execution.runId);
      expect(parent?.status).toBe('COMPLETED_WITH_FAILURES');
      // Its own targets, and the golden account's in both regions (their items failed).
      expect(parent?.summary?.failedTargets).toBe(failed + h.scenario.regions.length);
    },
    ROW_TIMEOUT_MS,
  );

  it(
    row(
      'DeleteTarget × Organizations × account-moved × out of the selected OUs while the plan waits',
      'the approval named its plan, so that plan deletes and nothing outside it; every target as planned',
    ),
    async () => {
      // Prepare
      harness = await startOrganizationHarness();
      const h = harness;
      const moved = h.scenario.workloads[0]?.accountId as string;

      // Act: workload A leaves the Workloads OU for the root, outside the deployment's selection.
      const execution = await h.run({
        executionName: 'org-moved',
        beforeAnswer: () => h.organization.moveAccount(moved, h.organization.rootId),
      });

      // Assess
      expect(await brokenRowInvariants(h, execution)).toEqual([]);
      const { broken, deleting } = await unaffected(h, execution, h.targets);
      expect(broken).toEqual([]);
      expect(deleting).toBeGreaterThan(1);
      expect(deregisteredIn(h, target(moved, 'eu-west-1')).length).toBeGreaterThan(0);
      expect((await h.ledger.getRun(execution.runId))?.status).toBe('COMPLETED');
    },
    ROW_TIMEOUT_MS,
  );

  it(
    row(
      "Deregister × STS × assume-role-denied × a consumer's role, while the plan waits",
      'the shared AMIs it might run are not deregistered and their items say why; its own plan and the rest delete',
    ),
    async () => {
      // Prepare
      harness = await startOrganizationHarness();
      const h = harness;
      const consumer = h.scenario.workloads[0]?.accountId as string;

      // Act: after planning, workload A's role stops trusting the hub. Its own delete phase still
      // holds the session its plan opened; the golden account's re-check in it must assume anew.
      const execution = await h.run({
        executionName: 'org-consumer-denied',
        beforeAnswer: () => distrust(h.organization, h.scenario, consumer),
      });

      // Assess: it is a consumer in both regions, so both golden targets keep their shared AMIs.
      expect(await brokenRowInvariants(h, execution)).toEqual([]);
      await expectSharedKeptFor(h, execution.runId, consumer);
      const { broken, deleting } = await unaffected(h, execution, notGolden(h));
      expect(broken).toEqual([]);
      expect(deleting).toBeGreaterThan(0);
      expect(deregisteredIn(h, target(consumer, 'eu-west-1')).length).toBeGreaterThan(0);
    },
    ROW_TIMEOUT_MS,
  );

  it.each([
    ['the selected OU itself', (s: OrganizationScenario) => s.ous.workloads],
    ['an OU nested in a selected one', (s: OrganizationScenario) => s.ous.production],
  ])(
    row(
      'StartOrganizationRun × Organizations × ou-unlistable × %s',
      'the run fails with OrganizationReadError before anything is read in any target; nobody asked',
    ),
    async (_what, ouOf) => {
      // Prepare
      harness = await startOrganizationHarness({
        prepare: (organization, scenario) => organization.deniedParents.add(ouOf(scenario)),
      });
      const h = harness;

      // Act
      const execution = await h.run({ executionName: 'org-unlistable' });

      // Assess
      expect(await brokenRowInvariants(h, execution)).toEqual([]);
      expect(execution.result.status).toBe('FAILED');
      expect(execution.result.error?.error).toBe('OrganizationReadError');
      expect(execution.approvals).toHaveLength(0);
      expect(h.organization.calls.filter((c) => c.command === 'AssumeRole')).toEqual([]);
      for (const account of h.organization.regionalAccounts())
        expect(account.calls.filter((c) => /^(Describe|Deregister|Delete)/.test(c.command))).toEqual([]);
      for (const each of h.targets) {
        expect(await h.targetRun(execution.runId, each)).toBeUndefined();
        expect(await h.ledger.getLock(each.key)).toBeUndefined();
      }
      // The execution's error names the OU; the ledger only says the run ended FAILED (the
      // parent's record is closed by close-abandoned-run, which does not see the error).
      expect(execution.result.error?.cause).toContain(ouOf(h.scenario));
      expect((await h.ledger.getRun(execution.runId))?.status).toBe('FAILED');
    },
    ROW_TIMEOUT_MS,
  );
});
