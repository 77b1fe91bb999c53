/**
 * The second opinion end to end: the deployed ASL through the local runner, against the simulated
 * account, where EC2's DescribeImageReferences sees a reference our inventory does not (an SSM
 * parameter outside the configured paths). Such an AMI is never deregistered.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { localLockKey } from '../../cli/local-runner/run-workflow.ts';
import type { RunSummary } from '../../functions/core/workflow.ts';
import { startWorkflowHarness, statesWith, type WorkflowHarness } from './harness.ts';

let harness: WorkflowHarness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const OUTSIDE_PATHS = '/other-team/base-ami';

describe('an AMI that AWS reports in use', () => {
  it('is kept at planning with both answers, and never deregistered, while the rest is deleted', async () => {
    // Prepare
    const h = await startWorkflowHarness();
    harness = h;
    const [disputed, ...others] = h.scenario.candidateImageIds as [string, ...string[]];
    h.account.putParameter(OUTSIDE_PATHS, disputed);

    // Act
    const execution = await h.run({ decision: 'APPROVE' });

    // Assess
    expect(execution.result.status).toBe('SUCCEEDED');
    const summary = execution.result.output as RunSummary;
    expect(summary).toMatchObject({ status: 'COMPLETED', deregistered: others.length, skippedInUse: 0 });
    expect(h.calledIds('DeregisterImage', { all: true })).not.toContain(disputed);
    expect(h.account.images.has(disputed)).toBe(true);
    expect(h.snapshotsOf(disputed).every((id) => h.account.snapshots.has(id))).toBe(true);
    expect(others.filter((id) => h.account.images.has(id))).toEqual([]);
    const item = (await h.items(execution.runId)).get(disputed);
    expect(item).toMatchObject({ status: 'KEPT', reason: 'AWS_REPORTS_IN_USE', references: [] });
    expect(item?.awsReferences).toEqual([expect.stringContaining(`parameter${OUTSIDE_PATHS}`)]);
  });

  it('since planning is set aside at LoadApproved and never deregistered', async () => {
    // Prepare
    const h = await startWorkflowHarness();
    harness = h;
    const [disputed, ...others] = h.scenario.candidateImageIds as [string, ...string[]];

    // Act
    const execution = await h.run({
      decision: 'APPROVE',
      beforeAnswer: () => {
        h.account.putParameter(OUTSIDE_PATHS, disputed);
      },
    });

    // Assess
    const summary = execution.result.output as RunSummary;
    expect(summary).toMatchObject({ status: 'COMPLETED', skippedInUse: 1, deregistered: others.length });
    expect(h.calledIds('DeregisterImage', { all: true })).not.toContain(disputed);
    expect(h.account.images.has(disputed)).toBe(true);
    const item = (await h.items(execution.runId)).get(disputed);
    expect(item).toMatchObject({ status: 'SKIPPED_IN_USE', references: [] });
    expect(item?.detail).toContain('our inventory: none; AWS DescribeImageReferences: ssm:Parameter');
  });

  it('cannot be decided when the API fails: the execution fails before approval, nothing deleted', async () => {
    // Prepare
    const h = await startWorkflowHarness();
    harness = h;
    h.account.failNext('DescribeImageReferences', 'UnauthorizedOperation');

    // Act
    const execution = await h.run({ decision: 'APPROVE' });

    // Assess
    expect(execution.result.status).toBe('FAILED');
    expect(execution.result.error?.error).toBe('InventoryReadError');
    expect(execution.approvals).toEqual([]);
    expect(statesWith(execution.events, 'StateEntered')).not.toContain('RecordPlan');
    expect(h.account.callsTo('DeregisterImage')).toEqual([]);
    expect(h.account.callsTo('DeleteSnapshot')).toEqual([]);
    expect(await h.ledger.getLock(localLockKey(h.stack))).toBeUndefined();
  });
});
