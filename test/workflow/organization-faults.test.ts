/**
 * Hand-written fault rows of the organization workflow: a target account that disappears
 * between plan and delete fails alone; a target plan swapped in the workspace between its plan
 * child and CombinePlans fails the whole run closed before anyone is asked; a target slipped into
 * the state's awaiting targets without its plan in the approved hash deletes nothing; a consumer
 * whose DescribeImageReferences is denied at deregistration keeps every shared AMI it re-checks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Plan } from '../../functions/core/model.ts';
import { plannedTarget } from '../../functions/core/organization-run.ts';
import { brokenRowInvariants } from '../fault/organization-rows.ts';
import { FAULT_PREFIX } from '../hostile/count.ts';
import { type OrganizationHarness, startOrganizationHarness } from './organization-harness.ts';

let harness: OrganizationHarness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

describe('organization run faults', () => {
  it(`${FAULT_PREFIX} organization × a target added to the state's awaiting targets, its plan left out of the approved hash, deletes nothing; the others delete`, async () => {
    // Prepare: CombinePlans leaves one planned target out of the combined plan (so out of the
    // approved hash), and the state it hands on names that target among the awaiting ones.
    harness = await startOrganizationHarness();
    const h = harness;
    const before = new Map(h.targets.map((t) => [t.key, h.imagesOf(t)]));
    const handlers = h.stack.handlers as unknown as Record<string, (event: unknown) => Promise<unknown>>;
    const combine = handlers.CombinePlans as (event: unknown) => Promise<unknown>;
    let slipped: (typeof h.targets)[number] | undefined;
    handlers.CombinePlans = async (event) => {
      const given = event as { run: { runId: string }; targets: { accountId: string; region: string }[] };
      const plannedKeys: string[] = [];
      for (const t of h.targets)
        if ((await h.targetRun(given.run.runId, t))?.status === 'RUNNING') plannedKeys.push(t.key);
      slipped = h.targets.find((t) => t.key === plannedKeys[0]);
      const others = given.targets.filter((t) => `${t.accountId}-${t.region}` !== slipped?.key);
      const out = (await combine({ ...(event as object), targets: others })) as {
        awaiting: unknown[];
        awaitingCount: number;
      };
      const extra = plannedTarget(slipped as (typeof h.targets)[number], given.run.runId);
      return { ...out, awaiting: [...out.awaiting, extra], awaitingCount: out.awaitingCount + 1 };
    };

    // Act
    const execution = await h.run({ executionName: 'org-slipped' });

    // Assess
    const extra = slipped as (typeof h.targets)[number];
    expect(extra).toBeDefined();
    expect(h.imagesOf(extra)).toEqual(before.get(extra.key));
    const run = await h.targetRun(execution.runId, extra);
    // The real CombinePlans never marked it awaiting, so its delete child is refused at the first
    // gate (ResumeTargetRun: RUNNING, not awaiting the decision) and fails; that failed child's
    // close-abandoned-run event (the local runner sends it, as EventBridge does) closes the run
    // and frees its lock.
    expect(run?.status).toBe('FAILED');
    expect(run?.error).toMatch(/ended FAILED before the run finished/);
    expect(await h.ledger.getLock(extra.key)).toBeUndefined();
    expect(execution.result.closeErrors).toBeUndefined();
    const account = h.organization.account(extra.accountId, extra.region);
    expect(account.calls.filter((c) => /^(DeregisterImage|DeleteSnapshot)$/.test(c.command))).toEqual([]);
    expect(JSON.stringify(execution.events)).toMatch(/not awaiting the decision/);
    const others = h.targets.filter((t) => t.key !== extra.key);
    expect(others.some((t) => h.imagesOf(t).size < (before.get(t.key)?.size ?? 0))).toBe(true);
  });

  it(`${FAULT_PREFIX} organization × a target account whose role denies the hub after planning fails alone at delete: nothing of it deleted, the others delete`, async () => {
    // Prepare
    harness = await startOrganizationHarness();
    const h = harness;
    const gone = h.scenario.golden.accountId;
    const before = new Map(h.targets.map((t) => [t.key, h.imagesOf(t)]));

    // Act: while the plan waits for approval, the account's role stops trusting the hub and every
    // session in it ends (closed account, or a role changed by its owner).
    const execution = await h.run({
      executionName: 'org-gone',
      beforeAnswer: () => {
        h.organization.addRole(gone, h.scenario.roleName, {
          hubAccountId: '999999999999',
          hubPrincipalArns: ['arn:aws:iam::999999999999:role/AmiCleaner*'],
        });
        h.organization.revokeSessions(gone);
      },
    });

    // Assess
    expect(await brokenRowInvariants(h, execution)).toEqual([]);
    const goneTargets = h.targets.filter((t) => t.accountId === gone);
    let planned = 0;
    for (const each of goneTargets) {
      expect(h.imagesOf(each)).toEqual(before.get(each.key));
      const run = await h.targetRun(execution.runId, each);
      if (run?.planHash === undefined || run.summary?.candidates === 0) continue;
      planned += 1;
      expect(run.status).toBe('FAILED');
      expect(await h.ledger.getLock(each.key)).toBeUndefined();
      const items = await h.ledger.listItems(run.runId);
      expect(items.filter((i) => i.status === 'DONE')).toEqual([]);
    }
    expect(planned).toBeGreaterThan(0);
    const others = h.targets.filter((t) => t.accountId !== gone);
    expect(others.some((t) => h.imagesOf(t).size < (before.get(t.key)?.size ?? 0))).toBe(true);
    for (const each of others) expect(await h.ledger.getLock(each.key)).toBeUndefined();
    const parent = await h.ledger.getRun(execution.runId);
    expect(parent?.status).toBe('COMPLETED_WITH_FAILURES');
    expect(parent?.summary?.failedTargets).toBeGreaterThanOrEqual(planned);
  });

  it(`${FAULT_PREFIX} organization × a target plan swapped for another target's in the workspace fails CombinePlans; nobody is asked, nothing deleted, every lock free`, async () => {
    // Prepare
    harness = await startOrganizationHarness();
    const h = harness;
    const before = new Map(h.targets.map((t) => [t.key, h.imagesOf(t)]));
    const planned: string[] = [];

    // Act: after the last plan child, the first planned target's document is replaced by another's.
    const execution = await h.run({
      executionName: 'org-swapped',
      aroundChildStart: async (state, child, start) => {
        const result = await start();
        if (state !== 'PlanTarget') return result;
        const each = h.targets.find((t) => child.name.startsWith(`${t.key}-`));
        const run = each && (await h.targetRun('org-swapped', each));
        if (run?.planKey) planned.push(run.planKey);
        if (planned.length === 2) {
          const [victim, other] = planned as [string, string];
          await h.stack.workspace.putJson(victim, await h.stack.workspace.getJson<Plan>(other));
        }
        return result;
      },
    });

    // Assess
    expect(planned.length).toBeGreaterThanOrEqual(2);
    expect(execution.approvals).toHaveLength(0);
    const parent = await h.ledger.getRun(execution.runId);
    expect(parent?.status).toBe('FAILED');
    // The run record says why: CombinePlans' caught error, not an anonymous failure.
    expect(parent?.error).toMatch(/no longer hashes to the one its run recorded/);
    expect(h.organization.calls.filter((c) => /^(DeregisterImage|DeleteSnapshot)$/.test(c.command))).toEqual(
      [],
    );
    for (const each of h.targets) {
      expect(h.imagesOf(each)).toEqual(before.get(each.key));
      const run = await h.targetRun(execution.runId, each);
      if (run) expect(['FAILED', 'NOTHING_TO_DELETE']).toContain(run.status);
      expect(await h.ledger.getLock(each.key)).toBeUndefined();
    }
  });

  it(`${FAULT_PREFIX} organization × a usage report that never completes keeps that shared AMI (USAGE_REPORT_NOT_READY); the rest of the plan deletes`, async () => {
    // Prepare: the oldest golden AMI of eu-west-1, shared with the Workloads OU and run by nobody.
    let stuck = '';
    harness = await startOrganizationHarness({
      prepare: (organization, scenario) => {
        stuck = scenario.golden.imageIds['eu-west-1']?.[0] as string;
        organization.usageReports.neverComplete.add(stuck);
      },
    });
    const h = harness;
    const golden = h.targets.find(
      (t) => t.accountId === h.scenario.golden.accountId && t.region === 'eu-west-1',
    );
    const before = h.imagesOf(golden as never);

    // Act
    const execution = await h.run({ executionName: 'org-report-pending' });

    // Assess
    expect(await brokenRowInvariants(h, execution)).toEqual([]);
    expect(execution.result.status).toBe('SUCCEEDED');
    const after = h.imagesOf(golden as never);
    expect(after.has(stuck)).toBe(true);
    const run = await h.targetRun(execution.runId, golden as never);
    const item = (await h.ledger.listItems(run?.runId as string)).find((i) => i.id === stuck);
    expect(item?.status).toBe('KEPT');
    expect(item?.reason).toBe('USAGE_REPORT_NOT_READY');
    // The other unused shared golden AMIs of the same plan were deleted.
    expect([...before].filter((id) => !after.has(id)).length).toBeGreaterThan(0);
    expect(run?.status).toBe('COMPLETED');
  });
  it(`${FAULT_PREFIX} organization × a consumer's DescribeImageReferences denied at deregistration keeps every shared AMI it would re-check there; the other targets still delete`, async () => {
    // Prepare
    harness = await startOrganizationHarness();
    const h = harness;
    const golden = h.targets.find(
      (t) => t.accountId === h.scenario.golden.accountId && t.region === 'eu-west-1',
    );
    const denying = h.scenario.workloads[0]?.accountId as string;
    const goldenAccount = h.organization.account(golden?.accountId as string, 'eu-west-1');
    const before = new Map(h.targets.map((t) => [t.key, h.imagesOf(t)]));

    // Act: after planning, the consumer's DescribeImageReferences is denied (an SCP, a changed role).
    const execution = await h.run({
      executionName: 'org-consumer-denied',
      beforeAnswer: () => {
        h.organization
          .account(denying, 'eu-west-1')
          .failNext('DescribeImageReferences', 'UnauthorizedOperation', 10_000);
      },
    });

    // Assess: every shared golden candidate is still there, failed, never deregistered.
    const run = await h.targetRun(execution.runId, golden as never);
    const items = await h.ledger.listItems(run?.runId as string);
    const shared = items.filter(
      (i) =>
        i.kind === 'IMAGE' &&
        i.status !== 'KEPT' &&
        (goldenAccount.images.get(i.id)?.launchPermissions.length ?? 0) > 0,
    );
    expect(shared.length).toBeGreaterThan(0);
    for (const item of shared) {
      expect(h.imagesOf(golden as never).has(item.id)).toBe(true);
      expect(item.status).toBe('FAILED');
      expect(item.lastError).toContain('DescribeImageReferences');
    }
    // Elsewhere the run went on: some target outside the denying account deleted.
    const others = h.targets.filter((t) => t.accountId !== denying);
    expect(others.some((t) => h.imagesOf(t).size < (before.get(t.key)?.size ?? 0))).toBe(true);
    for (const each of h.targets) expect(await h.ledger.getLock(each.key)).toBeUndefined();
  });
});
