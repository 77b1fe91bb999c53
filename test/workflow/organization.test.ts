/**
 * Issue 9 end to end on the simulated organization: one organization run plans every target in
 * a child execution of its own, asks for one approval of the combined plan, and deletes (or
 * closes) in every target in further children. Each target keeps its own run, lock and items.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Plan } from '../../functions/core/model.ts';
import { targetPhaseExecutionName, targetRunId } from '../../functions/core/organization-run.ts';
import { type Target, target } from '../../functions/core/target.ts';
import { type OrganizationHarness, startOrganizationHarness } from './organization-harness.ts';

let harness: OrganizationHarness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

async function planOf(h: OrganizationHarness, runId: string): Promise<Plan> {
  const run = await h.ledger.getRun(runId);
  return h.stack.workspace.getJson<Plan>(run?.planKey as string);
}

function candidatesOf(plan: Plan, each: Target): string[] {
  return plan.groups
    .filter((g) => g.accountId === each.accountId && g.region === each.region)
    .flatMap((g) => g.candidates.map((c) => c.imageId));
}

/**
 * Asserts every target kept its images and its lock is free, with its run ended `ended` (or
 * NOTHING_TO_DELETE: a target with no plan had nothing to decide); returns the statuses seen.
 */
async function expectUntouchedTargets(
  h: OrganizationHarness,
  runId: string,
  before: ReadonlyMap<string, Set<string>>,
  ended: string,
): Promise<string[]> {
  const statuses: string[] = [];
  for (const each of h.targets) {
    expect(h.imagesOf(each)).toEqual(before.get(each.key));
    const run = await h.targetRun(runId, each);
    statuses.push(String(run?.status));
    expect([ended, 'NOTHING_TO_DELETE']).toContain(run?.status);
    expect(await h.ledger.getLock(each.key)).toBeUndefined();
  }
  return statuses;
}

describe('an organization run', () => {
  it('plans every target, asks once, deletes in every target and keeps what another account runs', async () => {
    // Prepare
    harness = await startOrganizationHarness();
    const h = harness;
    const before = new Map(h.targets.map((t) => [t.key, h.imagesOf(t)]));

    // Act
    const execution = await h.run({ executionName: 'org-approve' });

    // Assess
    expect(execution.result.status).toBe('SUCCEEDED');
    expect(execution.approvals).toHaveLength(1);
    const plan = await planOf(h, execution.runId);
    expect(plan.targets?.map((t) => `${t.accountId}-${t.region}`)).toEqual(
      h.targets.filter((t) => candidatesOf(plan, t).length > 0).map((t) => t.key),
    );
    // Every AMI the plan named is gone from its own account, and nothing else is.
    for (const each of h.targets) {
      const planned = new Set(candidatesOf(plan, each));
      const now = h.imagesOf(each);
      const gone = [...(before.get(each.key) ?? [])].filter((id) => !now.has(id));
      expect(gone.sort()).toEqual([...planned].sort());
      const run = await h.targetRun(execution.runId, each);
      expect(run?.status).toBe(planned.size > 0 ? 'COMPLETED' : 'NOTHING_TO_DELETE');
      expect(await h.ledger.getLock(each.key)).toBeUndefined();
    }
    expect([...before.values()].some((ids) => ids.size > 0)).toBe(true);
    // The golden images other accounts run are kept, with the account named.
    for (const used of h.scenario.usedByOtherAccounts) {
      const golden = target(h.scenario.golden.accountId, used.region);
      expect(h.imagesOf(golden).has(used.imageId)).toBe(true);
      const items = await h.ledger.listItems((await h.targetRun(execution.runId, golden))?.runId as string);
      const item = items.find((i) => i.id === used.imageId);
      expect(item?.reason).toBe('IN_USE_BY_ACCOUNT');
      expect(String(item?.detail)).toContain(used.usedBy);
    }
    const parent = await h.ledger.getRun(execution.runId);
    expect(parent?.status).toBe('COMPLETED');
    expect(parent?.summary?.targets?.map((t) => `${t.accountId}-${t.region}`)).toEqual(
      h.targets.map((t) => t.key),
    );
    expect(parent?.summary?.deregistered).toBe(
      h.targets.reduce((n, t) => n + candidatesOf(plan, t).length, 0),
    );
    // The execution's output (the parent's last state) holds the sums, never a line a target:
    // those would grow the state with the targets past 256 KiB.
    const output = execution.result.output as Record<string, unknown>;
    expect(output).not.toHaveProperty('targets');
    expect(output).toMatchObject({
      targetCount: h.targets.length,
      deregistered: parent?.summary?.deregistered,
    });
    // The console tree: every child execution name starts with its target's key.
    const children = new Set(execution.events.map((e) => e.execution).filter(Boolean));
    for (const each of h.targets)
      expect(children.has(targetPhaseExecutionName(each, execution.runId, 'plan'))).toBe(true);
  });

  it('rejecting the one plan deletes in no target; every target run with a plan ends REJECTED, all unlocked', async () => {
    // Prepare
    harness = await startOrganizationHarness();
    const h = harness;
    const before = new Map(h.targets.map((t) => [t.key, h.imagesOf(t)]));

    // Act
    const execution = await h.run({ executionName: 'org-reject', decision: 'REJECT' });

    // Assess
    expect(execution.result.status).toBe('SUCCEEDED');
    expect(await expectUntouchedTargets(h, execution.runId, before, 'REJECTED')).toContain('REJECTED');
    expect(h.organization.calls.filter((c) => c.command === 'DeregisterImage')).toEqual([]);
    expect((await h.ledger.getRun(execution.runId))?.status).toBe('REJECTED');
  });

  it('an approval nobody answers expires: no target deletes, every target run ends EXPIRED and unlocked', async () => {
    // Prepare
    harness = await startOrganizationHarness({ approvalTimeoutSeconds: 2 });
    const h = harness;
    const before = new Map(h.targets.map((t) => [t.key, h.imagesOf(t)]));

    // Act
    const execution = await h.run({ executionName: 'org-expire', decision: 'NONE' });

    // Assess
    expect(execution.approvals).toHaveLength(1);
    expect((await h.ledger.getRun(execution.runId))?.status).toBe('EXPIRED');
    expect(await expectUntouchedTargets(h, execution.runId, before, 'EXPIRED')).toContain('EXPIRED');
    for (const each of h.targets) {
      const items = await h.ledger.listItems(targetRunId(each, execution.runId));
      expect(items.filter((i) => ['PLANNED', 'APPROVED', 'DEREGISTERED'].includes(i.status))).toEqual([]);
    }
    const deletions = h.organization.calls.filter((c) =>
      /^(DeregisterImage|DeleteSnapshot)$/.test(c.command),
    );
    expect(deletions).toEqual([]);
  });

  it("a target run's ledger widened after the plans were combined deletes nothing there; the others delete", async () => {
    // Prepare
    harness = await startOrganizationHarness();
    const h = harness;
    const golden = target(h.scenario.golden.accountId, 'eu-west-1');
    const before = new Map(h.targets.map((t) => [t.key, h.imagesOf(t)]));

    // Act: a writer with ledger access flips a KEPT golden AMI to PLANNED under its run's own hash.
    const execution = await h.run({
      executionName: 'org-tamper',
      beforeAnswer: async () => {
        const run = await h.targetRun('org-tamper', golden);
        const kept = (await h.ledger.listItems(run?.runId as string)).find((i) => i.status === 'KEPT');
        const flipped = await h.ledger.transition(run?.runId as string, 'IMAGE', kept?.id as string, {
          from: ['KEPT'],
          to: 'PLANNED',
          planHash: run?.planHash as string,
          set: { snapshots: [], sizeGiB: 0 },
        });
        expect(flipped).toBe(true);
      },
    });

    // Assess
    expect(h.imagesOf(golden)).toEqual(before.get(golden.key));
    const run = await h.targetRun(execution.runId, golden);
    expect(run?.status).toBe('FAILED');
    const others = h.targets.filter((t) => t.key !== golden.key);
    expect(others.some((t) => h.imagesOf(t).size < (before.get(t.key)?.size ?? 0))).toBe(true);
  });

  it('stopped while it waits for the decision: every target run is closed FAILED and its lock freed', async () => {
    // Prepare
    harness = await startOrganizationHarness();
    const h = harness;
    const stop = new AbortController();
    const before = new Map(h.targets.map((t) => [t.key, h.imagesOf(t)]));

    // Act: the operator stops the execution once the approval email went out.
    const execution = await h.run({
      executionName: 'org-stopped',
      decision: 'NONE',
      beforeAnswer: () => stop.abort(),
      signal: stop.signal,
    });

    // Assess
    expect(execution.result.status).toBe('ABORTED');
    expect((await h.ledger.getRun(execution.runId))?.status).toBe('FAILED');
    for (const each of h.targets) {
      expect(h.imagesOf(each)).toEqual(before.get(each.key));
      const run = await h.targetRun(execution.runId, each);
      expect(['FAILED', 'NOTHING_TO_DELETE']).toContain(run?.status);
      const items = await h.ledger.listItems(run?.runId as string);
      expect(items.filter((i) => ['PLANNED', 'APPROVED', 'DEREGISTERED'].includes(i.status))).toEqual([]);
      expect(await h.ledger.getLock(each.key)).toBeUndefined();
    }
  });

  // The second use is one only workload A's own DescribeImageReferences sees: no instance, no template.
  it.each([
    {
      use: 'starts running',
      start: (h: OrganizationHarness, account: string, imageId: string): void =>
        void h.organization.launchInstance(account, 'eu-west-1', imageId, new Date()),
      field: 'references' as const,
      found: (account: string) => [expect.stringMatching(new RegExp(`^account ${account}: instance i-`))],
    },
    {
      use: 'names in an SSM parameter',
      start: (h: OrganizationHarness, account: string, imageId: string): void =>
        void h.organization.account(account, 'eu-west-1').putParameter('/app/base-ami', imageId),
      field: 'awsReferences' as const,
      found: (account: string) => [
        `account ${account}: ssm:Parameter arn:aws:ssm:eu-west-1:${account}:parameter/app/base-ami`,
      ],
    },
  ])(
    'a shared AMI another target account $use after the plan is kept at deregistration',
    async ({ start, field, found }) => {
      // Prepare
      harness = await startOrganizationHarness();
      const h = harness;
      const golden = target(h.scenario.golden.accountId, 'eu-west-1');
      const workloadA = h.scenario.workloads[0]?.accountId as string;
      let victim = '';

      // Act: once the plan is out, workload A starts using one of the golden AMIs the plan deletes.
      const execution = await h.run({
        executionName: 'org-late-use',
        beforeAnswer: async () => {
          const plan = await planOf(h, 'org-late-use');
          victim = candidatesOf(plan, golden)[0] as string;
          start(h, workloadA, victim);
        },
      });

      // Assess
      expect(execution.result.status).toBe('SUCCEEDED');
      expect(victim).toMatch(/^ami-/);
      expect(h.imagesOf(golden).has(victim)).toBe(true);
      const run = await h.targetRun(execution.runId, golden);
      const item = (await h.ledger.listItems(run?.runId as string)).find((i) => i.id === victim);
      expect(item?.status).toBe('SKIPPED_IN_USE');
      expect(item?.[field]).toEqual(found(workloadA));
    },
  );

  it('one target in another region than the hub: its plan is approved on the hub and deleted there', async () => {
    // Prepare
    harness = await startOrganizationHarness({
      selection: (scenario) => ({
        accounts: [scenario.workloads[1]?.accountId as string],
        regions: ['us-east-1'],
      }),
    });
    const h = harness;
    const [only] = h.targets;
    const before = h.imagesOf(only as Target);

    // Act
    const execution = await h.run({ executionName: 'org-one-target' });

    // Assess
    expect(execution.result.status).toBe('SUCCEEDED');
    expect(h.targets).toHaveLength(1);
    const plan = await planOf(h, execution.runId);
    expect(plan.targets).toEqual([{ accountId: only?.accountId, region: 'us-east-1' }]);
    const planned = candidatesOf(plan, only as Target);
    expect(planned.length).toBeGreaterThan(0);
    expect([...before].filter((id) => !h.imagesOf(only as Target).has(id)).sort()).toEqual(planned.sort());
    expect((await h.ledger.getRun(execution.runId))?.status).toBe('COMPLETED');
  });

  it("a new golden AMI's run plans only its account and region, and still keeps what another account runs", async () => {
    // Prepare: the event's AMI is the golden account's newest in the first region.
    harness = await startOrganizationHarness();
    const h = harness;
    const used = h.scenario.usedByOtherAccounts[0] as (typeof h.scenario.usedByOtherAccounts)[number];
    const golden = target(h.scenario.golden.accountId, used.region);
    const imageId = (h.scenario.golden.imageIds[used.region] ?? []).at(-1) as string;
    const before = new Map(h.targets.map((t) => [t.key, h.imagesOf(t)]));

    // Act
    const execution = await h.run({
      executionName: 'org-new-ami',
      input: {
        trigger: 'ami-available',
        imageId,
        target: { accountId: golden.accountId, region: golden.region },
      },
    });

    // Assess
    expect(execution.result.status).toBe('SUCCEEDED');
    for (const each of h.targets) {
      const run = await h.targetRun(execution.runId, each);
      if (each.key === golden.key) continue;
      // No other target is planned or touched.
      expect(run, each.key).toBeUndefined();
      expect(h.imagesOf(each)).toEqual(before.get(each.key));
    }
    const run = await h.targetRun(execution.runId, golden);
    expect(run?.trigger).toBe('ami-available');
    // The image workload A runs is kept, named, though workload A itself was not planned.
    expect(h.imagesOf(golden).has(used.imageId)).toBe(true);
    const item = (await h.ledger.listItems(run?.runId as string)).find((i) => i.id === used.imageId);
    expect(item?.reason).toBe('IN_USE_BY_ACCOUNT');
    expect(String(item?.detail)).toContain(used.usedBy);
    expect(h.imagesOf(golden).has(imageId)).toBe(true);
  });
});
