import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FINAL_ITEM_STATUSES } from '../../functions/core/workflow.ts';
import {
  approvedRun,
  type Harness,
  imageItem,
  planRun,
  type Scenario,
  seedScenario,
  startHarness,
} from './harness.ts';

const TOKEN = `AAAAKgAAAAIAAAAAAAAAA${'x'.repeat(300)}`;

describe('record-failure and finalize', () => {
  let h: Harness;
  let scenario: Scenario;

  beforeEach(async () => {
    h = await startHarness();
    scenario = seedScenario(h.account);
  });

  afterEach(async () => {
    await h.stop();
  });

  const allFinal = async () =>
    (await h.ledger.listItems('run-1')).every((item) => FINAL_ITEM_STATUSES.includes(item.status));

  it('record-failure marks the item FAILED with a short, safe message', async () => {
    // Prepare
    const { plan } = await approvedRun(h);
    const imageId = scenario.frontCandidates[0] as string;
    const cause = JSON.stringify({
      errorType: 'UnauthorizedOperation',
      errorMessage: `not allowed; token ${TOKEN} key AKIAABCDEFGHIJKLMNOP`,
      trace: ['at deregister (file.js:1:1)'],
    });

    // Act
    const result = await h.handlers.recordFailure({
      runId: 'run-1',
      planHash: plan.planHash,
      imageId,
      error: { Error: 'UnauthorizedOperation', Cause: cause },
    });

    // Assess
    expect(result).toEqual({});
    const failed = await h.ledger.getItem('run-1', 'IMAGE', imageId);
    expect(failed).toMatchObject({ status: 'FAILED', errorType: 'UnauthorizedOperation' });
    expect(failed?.lastError).toBe('UnauthorizedOperation: not allowed; token [redacted] key [redacted]');
  });

  it('record-failure leaves an item that already reached a final status alone', async () => {
    // Prepare
    const { plan, work } = await approvedRun(h);
    const imageId = scenario.frontCandidates[0] as string;
    const event = imageItem(plan.planHash, imageId, work);
    await h.handlers.deregister(event);
    await h.handlers.deleteSnapshots(event);

    // Act
    await h.handlers.recordFailure({ ...event, error: { Error: 'States.Timeout', Cause: 'late' } });

    // Assess
    expect(await h.ledger.getItem('run-1', 'IMAGE', imageId)).toMatchObject({ status: 'DONE' });
  });

  it('record-failure rejects an event naming both an image and a snapshot', async () => {
    // Act
    const attempt = h.handlers.recordFailure({
      runId: 'run-1',
      imageId: 'ami-0123456789abcdef0',
      snapshotId: 'snap-0123456789abcdef0',
      error: {},
    } as never);

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'InvalidEventError' });
  });

  it('after deletions, gives every item a final status and sums what was actually freed', async () => {
    // Prepare: front[0] done (8 GiB), front[1] fails at deregister, back candidate done but
    // its snapshot is shared (0 GiB), the orphan is deleted (30 GiB)
    const { run, plan, approval, work } = await approvedRun(h);
    const [f0, f1] = scenario.frontCandidates as [string, string];
    const ev = (imageId: string) => imageItem(plan.planHash, imageId, work);
    await h.handlers.deregister(ev(f0));
    await h.handlers.deleteSnapshots(ev(f0));
    await h.handlers.recordFailure({ ...ev(f1), error: { Error: 'UnauthorizedOperation', Cause: 'denied' } });
    await h.handlers.deregister(ev(scenario.backCandidate));
    await h.handlers.deleteSnapshots(ev(scenario.backCandidate));
    await h.handlers.deleteOrphan({
      runId: 'run-1',
      planHash: plan.planHash,
      snapshotId: scenario.orphanSnapshot,
    });

    // Act
    const summary = await h.handlers.finalize({
      run,
      outcome: 'APPROVED',
      planHash: plan.planHash,
      approval,
    });

    // Assess
    expect(summary).toEqual({
      runId: 'run-1',
      status: 'COMPLETED_WITH_FAILURES',
      planHash: plan.planHash,
      candidates: 4,
      deregistered: 2,
      snapshotsDeleted: 2,
      skippedInUse: 0,
      failed: 1,
      deferred: 0,
      gibFreed: 38,
      estimatedMonthlySavingUsd: 1.9,
      approver: 'alice',
    });
    expect(await allFinal()).toBe(true);
    expect(await h.ledger.getRun('run-1')).toMatchObject({ status: 'COMPLETED_WITH_FAILURES', summary });
  });

  it('moves items a crashed Map left behind to FAILED, counting the AMI that did get deregistered', async () => {
    // Prepare: one AMI deregistered but its snapshots never deleted, the rest never started
    const { run, plan, approval, work } = await approvedRun(h);
    const imageId = scenario.frontCandidates[0] as string;
    await h.handlers.deregister(imageItem(plan.planHash, imageId, work));

    // Act
    const summary = await h.handlers.finalize({
      run,
      outcome: 'APPROVED',
      planHash: plan.planHash,
      approval,
    });

    // Assess
    expect(summary).toMatchObject({
      status: 'COMPLETED_WITH_FAILURES',
      deregistered: 1,
      failed: 4,
      gibFreed: 0,
    });
    expect(await h.ledger.getItem('run-1', 'IMAGE', imageId)).toMatchObject({
      status: 'FAILED',
      lastError: 'the AMI was deregistered but its snapshots were not all deleted',
    });
    expect(await allFinal()).toBe(true);
  });

  it.each([
    ['REJECTED', 'REJECTED'],
    ['DRY_RUN', 'DRY_RUN'],
    ['EXPIRED', 'EXPIRED'],
  ] as const)('finalizes a %s run: candidates %s, nothing freed', async (outcome, itemStatus) => {
    // Prepare
    const { run, plan } = await planRun(h);

    // Act
    const summary = await h.handlers.finalize({ run, outcome, planHash: plan.planHash });

    // Assess
    expect(summary).toMatchObject({
      status: outcome,
      candidates: 4,
      deregistered: 0,
      gibFreed: 0,
      failed: 0,
    });
    const items = await h.ledger.listItems('run-1');
    expect(items.filter((item) => item.status === itemStatus)).toHaveLength(4);
    expect(await allFinal()).toBe(true);
    expect(h.account.mutatingCalls()).toEqual([]);
  });

  it('finalizes a failed run with the error, and is idempotent', async () => {
    // Prepare
    const { run } = await planRun(h);
    const event = {
      run,
      outcome: 'FAILED' as const,
      error: {
        Error: 'InventoryReadError',
        Cause: '{"errorMessage":"inventory incomplete: DescribeImages"}',
      },
    };
    const first = await h.handlers.finalize(event);

    // Act
    const second = await h.handlers.finalize(event);

    // Assess
    expect(second).toEqual(first);
    expect(second).toMatchObject({ status: 'FAILED', failed: 4 });
    expect(await h.ledger.getRun('run-1')).toMatchObject({
      status: 'FAILED',
      error: 'InventoryReadError: inventory incomplete: DescribeImages',
    });
    expect(await allFinal()).toBe(true);
  });

  it('leaves AMIs Rotate deferred over the cap DEFERRED, and counts them as deferred', async () => {
    // Prepare: cap 2 → back-1's launch permissions are not read; the orphan is over the cap too
    const { run, plan } = await planRun(h, { maxDeletionsPerRun: 2 });

    // Act
    const summary = await h.handlers.finalize({ run, outcome: 'REJECTED', planHash: plan.planHash });

    // Assess
    expect(summary).toMatchObject({ status: 'REJECTED', deferred: 2 });
    expect(await h.ledger.getItem('run-1', 'IMAGE', scenario.backCandidate)).toMatchObject({
      status: 'DEFERRED',
      reason: 'MAX_DELETIONS_PER_RUN',
    });
    expect(await allFinal()).toBe(true);
  });

  it('rejects an unknown outcome', async () => {
    // Prepare
    const { run } = await planRun(h);

    // Act
    const attempt = h.handlers.finalize({ run, outcome: 'DONE' as never });

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'InvalidEventError' });
    expect((await h.ledger.listItems('run-1')).some((item) => item.status === 'PLANNED')).toBe(true);
  });
});
