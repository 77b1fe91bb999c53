/**
 * Target runs of an organization (issue 9, helper `targetrun`): every handler of the local stack
 * works on `run.target` through the member role of the simulated organization, the lock is per
 * account and region, and a target the hub cannot reach fails closed before any call.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalStack, type LocalStack } from '../../cli/local-runner/local-stack.ts';
import { SimulatedOrganization } from '../../cli/simulated-account/index.ts';
import { createAwsClients } from '../../functions/adapters/clients.ts';
import type { Ledger } from '../../functions/adapters/ledger/index.ts';
import { AssumeRoleError, memberClients } from '../../functions/adapters/organization.ts';
import { createCombinePlansHandler } from '../../functions/combine-plans.ts';
import { memberClientsFactory, TargetConfigurationError } from '../../functions/commons/target-clients.ts';
import { writeReferenceTargets } from '../../functions/commons/target-consumers.ts';
import type { BatchDescriptor, DeletionBatch } from '../../functions/core/deletion-batches.ts';
import { targetPhaseExecutionName, targetRunId } from '../../functions/core/organization-run.ts';
import { DEFAULT_MEMBER_ROLE_NAME, type Target, target } from '../../functions/core/target.ts';
import type { RunContext } from '../../functions/core/workflow.ts';
import { type LocalDynamo, startDynalite } from '../helpers/dynalite.ts';
import { type Scenario, SETTINGS, seedScenario } from './harness.ts';

// The SDK checks an assumed role's Expiration against the real clock, so the simulated clock starts now.
const NOW = new Date();
const EU = 'eu-west-1';
const MEMBER = '333333333333';
/** Its member role trusts another hub role only: AssumeRole is denied. */
const UNREACHABLE = '444444444444';
const SECOND = '555555555555';

interface World {
  readonly organization: SimulatedOrganization;
  readonly hub: string;
  readonly dynamo: LocalDynamo;
  readonly ledger: Ledger;
  /** Hub clients and member-role clients, as the Lambda entry points wire them. */
  readonly stack: LocalStack;
  /** The same, but without any way to reach another account. */
  readonly hubOnly: LocalStack;
  readonly member: Scenario;
  readonly hubScenario: Scenario;
}

type Step = (event: unknown) => Promise<never>;
const step = (stack: LocalStack, id: keyof LocalStack['handlers']): Step =>
  stack.handlers[id] as unknown as Step;

async function world(): Promise<World> {
  const organization = new SimulatedOrganization({ seed: 'target-run', clock: () => NOW });
  const hub = organization.managementAccountId;
  const hubRole = `arn:aws:iam::${hub}:role/AmiCleaner-Function`;
  for (const [accountId, name] of [
    [MEMBER, 'member'],
    [UNREACHABLE, 'unreachable'],
    [SECOND, 'second'],
  ] as const) {
    organization.addAccount({ accountId, name });
    organization.addRole(accountId, DEFAULT_MEMBER_ROLE_NAME, {
      hubAccountId: hub,
      hubPrincipalArns: [accountId === UNREACHABLE ? `arn:aws:iam::${hub}:role/Someone-Else` : hubRole],
    });
  }
  const identity = organization.credentialsFor(hubRole);
  const clients = createAwsClients({ region: EU, maxAttempts: 1 });
  for (const client of Object.values(clients)) organization.attach(client, identity);
  const memberClientsFor = memberClientsFactory({
    hubRegion: EU,
    roleName: DEFAULT_MEMBER_ROLE_NAME,
    make: (each, options) => {
      const made = memberClients(each, {
        ...options,
        sourceCredentials: identity,
        stsPlugins: [organization.plugin()],
      });
      for (const client of Object.values(made)) organization.attach(client);
      return made;
    },
  });
  const dynamo = await startDynalite();
  const ledger = dynamo.ledger;
  const common = {
    clients,
    region: EU,
    ledger,
    defaultSettings: SETTINGS,
    maxDeletionsPerRun: 100,
    approvalTimeoutSeconds: 3600,
    approvalBaseUrl: 'https://approve.example/',
    now: () => NOW,
    hubAccountId: hub,
  };
  return {
    organization,
    hub,
    dynamo,
    ledger,
    stack: createLocalStack({ ...common, memberClientsFor }),
    hubOnly: createLocalStack(common),
    member: seedScenario(organization.account(MEMBER, EU)),
    hubScenario: seedScenario(organization.account(hub, EU)),
  };
}

/** The execution a parent starts for a target's plan phase, as AcquireLock sees it. */
function planChildEvent(w: World, each: Target, parentRunId: string, extra: Record<string, unknown> = {}) {
  const name = targetPhaseExecutionName(each, parentRunId, 'plan');
  return {
    input: {
      target: { accountId: each.accountId, region: each.region },
      parentRunId,
      phase: 'plan',
      ...extra,
    },
    execution: {
      id: `arn:aws:states:${EU}:${w.hub}:execution:ami-cleaner:${name}`,
      name,
      startTime: NOW.toISOString(),
    },
  };
}

const mutatingCalls = (w: World, accountId: string) =>
  w.organization
    .account(accountId, EU)
    .calls.filter((call) => /^(Deregister|Delete|CreateTags)/.test(call.command))
    .map((call) => call.command);

async function planTarget(stack: LocalStack, run: RunContext) {
  const inventory = (await step(stack, 'Inventory')({ run })) as { inventoryKey: string };
  const groups = (await step(stack, 'MapGroups')({ run, ...inventory })) as { groupsKey: string };
  const filtered = (await step(stack, 'FilterInUse')({ run, ...inventory, ...groups })) as {
    filteredKey: string;
  };
  const plan = (await step(stack, 'Rotate')({ run, ...inventory, ...groups, ...filtered })) as {
    planKey: string;
    planHash: string;
  };
  await step(stack, 'RecordPlan')({ run, planKey: plan.planKey, planHash: plan.planHash });
  return plan;
}

/** What RequestApproval and the page's POST leave in the ledger (harness `approve`, on this clock). */
/** One approval of the organization run's combined plan, as CombinePlans and the page make it. */
async function approveNow(w: World, run: RunContext) {
  const parentRunId = run.parentRunId as string;
  const { target: _target, parentRunId: _parent, ...own } = run;
  await w.ledger.putRun({ ...own, runId: parentRunId }, { status: 'RUNNING' });
  const combined = await createCombinePlansHandler({
    ledger: w.ledger,
    workspace: w.stack.workspace,
    now: () => NOW,
  })({
    run: { ...own, runId: parentRunId },
    targets: [run.target],
  });
  const planHash = combined.planHash as string;
  const approvalId = `approval-${parentRunId}`;
  await w.ledger.putApproval({
    approvalId,
    runId: parentRunId,
    planHash,
    planKey: combined.planKey as string,
    taskToken: 'token',
    expiresAt: new Date(NOW.getTime() + 3600_000),
  });
  await w.ledger.updateRun(parentRunId, { status: 'AWAITING_APPROVAL', approvalId });
  const used = await w.ledger.useApproval(approvalId, { decision: 'APPROVED', approver: 'alice', planHash });
  expect(used.used).toBe(true);
  return { decision: 'APPROVED' as const, planHash, approver: 'alice' };
}

describe('a target run works in its target account through the member role', () => {
  let w: World;
  beforeAll(async () => {
    w = await world();
    // The organization run writes its reference targets before any target run starts.
    await writeReferenceTargets(w.stack.workspace, 'org-1', [target(MEMBER, EU)]);
  });
  afterAll(async () => {
    await w.dynamo.stop();
  });

  it('plans, deregisters and deletes in the target account only, under the target key lock', async () => {
    // Prepare
    const each = target(MEMBER, EU);
    const acquired = (await step(w.stack, 'AcquireLock')(planChildEvent(w, each, 'org-1'))) as {
      acquired: boolean;
      run: RunContext;
    };
    const { run } = acquired;

    // Act
    const plan = await planTarget(w.stack, run);
    const approval = await approveNow(w, run);
    const { batches } = (await step(w.stack, 'LoadApproved')({ run, planHash: plan.planHash, approval })) as {
      batches: BatchDescriptor[];
    };
    const work: DeletionBatch[] = [];
    for (const batch of batches)
      work.push(
        (await step(w.stack, 'LoadBatch')({ runId: run.runId, planHash: plan.planHash, batch })) as never,
      );
    for (const { imageId, snapshotIds } of work.flatMap((b) => b.images)) {
      const item = { runId: run.runId, planHash: plan.planHash, imageId, snapshotIds };
      await step(w.stack, 'DeregisterImage')(item);
      await step(w.stack, 'DeleteImageSnapshots')(item);
    }
    for (const { snapshotId } of work.flatMap((b) => b.orphanSnapshots))
      await step(w.stack, 'DeleteOrphanSnapshot')({ runId: run.runId, planHash: plan.planHash, snapshotId });
    const lockWhileDeleting = await w.ledger.getLock(each.key);
    await step(w.stack, 'ReleaseLock')({ run });

    // Assess
    expect(acquired.acquired).toBe(true);
    expect(run.runId).toBe(targetRunId(each, 'org-1'));
    expect(await w.ledger.getRun(run.runId)).toMatchObject({
      target: { accountId: MEMBER, region: EU },
      parentRunId: 'org-1',
    });
    expect(lockWhileDeleting?.owner).toBe(run.runId);
    expect(await w.ledger.getLock(each.key)).toBeUndefined();
    const memberImages = w.organization.account(MEMBER, EU).images;
    for (const imageId of [...w.member.frontCandidates, w.member.backCandidate])
      expect(memberImages.has(imageId)).toBe(false);
    expect(memberImages.has(w.member.frontInUse)).toBe(true);
    expect(w.organization.account(MEMBER, EU).snapshots.has(w.member.orphanSnapshot)).toBe(false);
    expect(mutatingCalls(w, MEMBER)).toContain('DeregisterImage');
    // The hub's own account, with the same kind of AMIs, was not touched.
    expect(mutatingCalls(w, w.hub)).toEqual([]);
    const hubImages = w.organization.account(w.hub, EU).images;
    expect(hubImages.has(w.hubScenario.frontCandidates[0] as string)).toBe(true);
    expect(await w.ledger.listDeregistrationIntents(each.key)).toEqual([]);
  });

  it('fails closed with AssumeRoleError, before any call, in a target whose role does not trust the hub', async () => {
    // Prepare
    const each = target(UNREACHABLE, EU);
    const { run } = (await step(w.stack, 'AcquireLock')(planChildEvent(w, each, 'org-1'))) as {
      run: RunContext;
    };

    // Act
    const inventory = step(w.stack, 'Inventory')({ run });

    // Assess
    await expect(inventory).rejects.toBeInstanceOf(AssumeRoleError);
    await expect(inventory).rejects.toThrow(
      `cannot assume arn:aws:iam::${UNREACHABLE}:role/AmiCleanerMemberRole`,
    );
    expect(w.organization.account(UNREACHABLE, EU).calls).toEqual([]);
  });

  it("refuses a FilterInUse event that names another target than the run's", async () => {
    // Prepare
    const { run } = (await step(w.stack, 'AcquireLock')(planChildEvent(w, target(SECOND, EU), 'org-7'))) as {
      run: RunContext;
    };
    const inventory = (await step(w.stack, 'Inventory')({ run })) as { inventoryKey: string };
    const groups = (await step(w.stack, 'MapGroups')({ run, ...inventory })) as { groupsKey: string };

    // Act
    const filtered = step(
      w.stack,
      'FilterInUse',
    )({ run, ...inventory, ...groups, target: target(MEMBER, EU) });

    // Assess
    await expect(filtered).rejects.toMatchObject({
      name: 'InvalidEventError',
      message: /not the run's target/,
    });
    await step(w.stack, 'ReleaseLock')({ run });
  });

  it('refuses a target run in a function with no member role configured: TargetConfigurationError, no call', async () => {
    // Prepare
    const each = target(SECOND, EU);
    const { run } = (await step(w.hubOnly, 'AcquireLock')(planChildEvent(w, each, 'org-3'))) as {
      run: RunContext;
    };
    const before = w.organization.calls.length;

    // Act
    const inventory = step(w.hubOnly, 'Inventory')({ run });

    // Assess
    await expect(inventory).rejects.toBeInstanceOf(TargetConfigurationError);
    expect(w.organization.calls.length).toBe(before);
    await step(w.hubOnly, 'ReleaseLock')({ run });
  });
});

describe('close-abandoned-run on a target run', () => {
  let w: World;
  beforeAll(async () => {
    w = await world();
  });
  afterAll(async () => {
    await w.dynamo.stop();
  });

  it("finds the run and its target's lock from the failed plan child's name and input", async () => {
    // Prepare
    const each = target(MEMBER, EU);
    const event = planChildEvent(w, each, 'org-5');
    const { run } = (await step(w.stack, 'AcquireLock')(event)) as { run: RunContext };

    // Act
    const closed = await w.stack.closeAbandonedRun({
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      detail: {
        executionArn: event.execution.id,
        name: event.execution.name,
        status: 'TIMED_OUT',
        input: JSON.stringify(event.input),
      },
    });

    // Assess
    expect(closed).toEqual({ runId: run.runId, outcome: 'closed' });
    expect((await w.ledger.getRun(run.runId))?.status).toBe('FAILED');
    expect(await w.ledger.getLock(each.key)).toBeUndefined();
  });
});

describe('the lock is per account and region', () => {
  let w: World;
  beforeAll(async () => {
    w = await world();
  });
  afterAll(async () => {
    await w.dynamo.stop();
  });

  const acquire = async (stack: LocalStack, event: unknown) =>
    (await step(stack, 'AcquireLock')(event)) as { acquired: boolean; run: RunContext };

  it('lets two accounts of one region run at once on one ledger, but not two runs of one account and region', async () => {
    // Act
    const first = await acquire(w.stack, planChildEvent(w, target(MEMBER, EU), 'org-1'));
    const otherAccount = await acquire(w.stack, planChildEvent(w, target(SECOND, EU), 'org-1'));
    const otherRegion = await acquire(w.stack, planChildEvent(w, target(MEMBER, 'us-east-1'), 'org-1'));
    const sameTarget = await acquire(w.stack, planChildEvent(w, target(MEMBER, EU), 'org-2'));

    // Assess
    expect([first.acquired, otherAccount.acquired, otherRegion.acquired]).toEqual([true, true, true]);
    expect(sameTarget.acquired).toBe(false);
    expect((await w.ledger.getLock(`${MEMBER}-${EU}`))?.owner).toBe(first.run.runId);
    expect((await w.ledger.getRun(sameTarget.run.runId))?.status).toBe('SKIPPED_LOCKED');
  });

  it("makes a run without a target and a target run of the hub's own account and region exclude each other", async () => {
    // Prepare
    const name = 'hub-run-1';
    const single = await acquire(w.stack, {
      input: {},
      execution: {
        id: `arn:aws:states:${EU}:${w.hub}:execution:ami-cleaner:${name}`,
        name,
        startTime: NOW.toISOString(),
      },
    });

    // Act
    const hubTarget = await acquire(w.stack, planChildEvent(w, target(w.hub, EU), 'org-9'));

    // Assess
    expect(single.acquired).toBe(true);
    expect((await w.ledger.getLock(`${w.hub}-${EU}`))?.owner).toBe('hub-run-1');
    expect(hubTarget.acquired).toBe(false);
  });
});
