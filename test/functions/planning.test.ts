import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TransientAwsError } from '../../functions/adapters/errors.ts';
import { readInventory } from '../../functions/adapters/inventory.ts';
import type { Inventory, Plan } from '../../functions/core/model.ts';
import { buildPlan } from '../../functions/core/plan.ts';
import {
  type Harness,
  NOW,
  planRun,
  REGION,
  type Scenario,
  SETTINGS,
  seedScenario,
  startHarness,
} from './harness.ts';

describe('planning handlers (Inventory → MapGroups → FilterInUse → Rotate)', () => {
  let h: Harness;
  let scenario: Scenario;

  beforeEach(async () => {
    h = await startHarness();
    scenario = seedScenario(h.account);
  });

  afterEach(async () => {
    await h.stop();
  });

  it('chained one state at a time, produce exactly the plan core buildPlan builds', async () => {
    // Prepare
    const inventory = await readInventory(h.clients, {
      region: REGION,
      ssmParameterPaths: [],
      includeSnapshots: true,
      now: () => NOW,
    });
    const expected = buildPlan({
      inventory,
      settings: SETTINGS,
      now: NOW,
      sharedImageIds: new Set(),
      maxDeletionsPerRun: 100,
      // The run's execution ARN names the account; Rotate stamps it on every row.
      accountId: '123456789012',
    });

    // Act
    const { plan, inventory: read, groups, filtered } = await planRun(h);

    // Assess
    const stored = await h.workspace.getJson<Plan>(plan.planKey);
    expect(stored).toEqual(expected);
    expect(plan).toEqual({
      done: true,
      nextPass: null,
      planKey: 'runs/run-1/plan.json',
      planHash: expected.planHash,
      candidates: 3,
      orphanSnapshots: 1,
      kept: expected.totals.kept,
    });
    expect(stored.groups.flatMap((g) => g.candidates.map((c) => c.imageId)).sort()).toEqual(
      [...scenario.frontCandidates, scenario.backCandidate].sort(),
    );
    expect(stored.orphanSnapshots.map((o) => o.snapshotId)).toEqual([scenario.orphanSnapshot]);
    expect(read.counts).toMatchObject({ images: 9, instances: 1 });
    expect(groups).toEqual({ groupsKey: 'runs/run-1/groups.json', groups: 2, excluded: 1 });
    expect(filtered).toEqual({ filteredKey: 'runs/run-1/filtered.json', inUse: 1 });
  });

  it('scopes an ami-available run to the new AMI group, without the orphan sweep', async () => {
    // Act
    const { plan } = await planRun(h, { trigger: 'ami-available', imageId: scenario.backSharing });

    // Assess
    const stored = await h.workspace.getJson<Plan>(plan.planKey);
    expect(stored.groups.map((g) => g.name)).toEqual(['back.dev']);
    expect(stored.groups[0]?.candidates.map((c) => c.imageId)).toEqual([scenario.backCandidate]);
    expect(stored.orphanSnapshots).toEqual([]);
    const inventory = await h.workspace.getJson<Inventory>('runs/run-1/inventory.json');
    expect(inventory.snapshots).toEqual([]);
    expect(h.account.callsTo('DescribeSnapshots')).toHaveLength(0);
  });

  it('surfaces a throttled inventory read as TransientAwsError and stores nothing', async () => {
    // Prepare
    const { run } = await h.handlers.acquireLock({
      input: {},
      execution: {
        id: 'arn:aws:states:eu-west-1:123456789012:execution:ami-cleaner:run-1',
        name: 'run-1',
        startTime: NOW.toISOString(),
      },
    });
    h.account.failNext('DescribeImages', 'RequestLimitExceeded');

    // Act
    const attempt = h.handlers.inventory({ run });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(TransientAwsError);
    await expect(attempt).rejects.toMatchObject({ name: 'TransientAwsError', code: 'RequestLimitExceeded' });
    expect(h.workspace.keys()).toEqual([]);
  });

  it('fails closed, without retry, on a non-retryable read error', async () => {
    // Prepare
    const { run } = await h.handlers.acquireLock({
      input: {},
      execution: {
        id: 'arn:aws:states:eu-west-1:123456789012:execution:ami-cleaner:run-1',
        name: 'run-1',
        startTime: NOW.toISOString(),
      },
    });
    h.account.failNext('DescribeLaunchTemplates', 'UnauthorizedOperation');

    // Act
    const attempt = h.handlers.inventory({ run });

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'InventoryReadError' });
    expect(h.workspace.keys()).toEqual([]);
  });

  it('surfaces a throttled launch-permission read in Rotate as TransientAwsError', async () => {
    // Prepare
    const { run } = await h.handlers.acquireLock({
      input: {},
      execution: {
        id: 'arn:aws:states:eu-west-1:123456789012:execution:ami-cleaner:run-1',
        name: 'run-1',
        startTime: NOW.toISOString(),
      },
    });
    const { inventoryKey } = await h.handlers.inventory({ run });
    const { groupsKey } = await h.handlers.mapGroups({ run, inventoryKey });
    const { filteredKey } = await h.handlers.filterInUse({ run, inventoryKey, groupsKey });
    h.account.failNext('DescribeImageAttribute', 'RequestLimitExceeded');

    // Act
    const attempt = h.handlers.rotate({ run, inventoryKey, groupsKey, filteredKey });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(TransientAwsError);
    expect(h.workspace.keys()).not.toContain('runs/run-1/plan.json');
  });

  it('reads launch permissions of at most maxDeletionsPerRun AMIs, oldest first, and defers the rest', async () => {
    // Act: 3 would-be candidates (front-1, front-3, back-1), a cap of 2
    const { plan, recorded } = await planRun(h, { maxDeletionsPerRun: 2 });

    // Assess
    const described = h.account.callsTo('DescribeImageAttribute');
    expect(described).toHaveLength(2);
    expect(plan.candidates).toBe(2);
    const stored = await h.workspace.getJson<Plan>(plan.planKey);
    expect(stored.groups.flatMap((g) => g.candidates.map((c) => c.imageId)).sort()).toEqual(
      [...scenario.frontCandidates].sort(),
    );
    expect(recorded).toMatchObject({ toDelete: 2, deferred: 2 });
    const items = await h.ledger.listItems('run-1');
    expect(items.find((item) => item.id === scenario.backCandidate)).toMatchObject({
      status: 'DEFERRED',
      reason: 'MAX_DELETIONS_PER_RUN',
      detail: "over this run's limit of 2; planned again next run",
    });
    expect(items.filter((item) => item.status === 'KEPT').map((item) => item.reason)).not.toContain(
      'MAX_DELETIONS_PER_RUN',
    );
  });

  it('reads no launch permissions and defers every would-be candidate at maxDeletionsPerRun 0', async () => {
    // Act
    const { plan, recorded } = await planRun(h, { maxDeletionsPerRun: 0 });

    // Assess
    expect(h.account.callsTo('DescribeImageAttribute')).toHaveLength(0);
    expect(plan.candidates).toBe(0);
    expect(recorded).toMatchObject({ toDelete: 0, deferred: 4 });
    const items = await h.ledger.listItems('run-1');
    const deferred = items.filter((item) => item.status === 'DEFERRED').map((item) => item.id);
    expect(deferred.sort()).toEqual(
      [...scenario.frontCandidates, scenario.backCandidate, scenario.orphanSnapshot].sort(),
    );
  });

  it('rotates the same plan hash again on a retry', async () => {
    // Prepare
    const first = await planRun(h);

    // Act
    const again = await h.handlers.rotate({
      run: first.run,
      inventoryKey: first.inventory.inventoryKey,
      groupsKey: first.groups.groupsKey,
      filteredKey: first.filtered.filteredKey,
    });

    // Assess
    expect(again.planHash).toBe(first.plan.planHash);
  });
});
