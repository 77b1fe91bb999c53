import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApprovalMismatchError } from '../../functions/load-approved.ts';
import { PlanMismatchError } from '../../functions/record-plan.ts';
import { approve, type Harness, planRun, type Scenario, seedScenario, startHarness } from './harness.ts';

describe('record-plan and load-approved', () => {
  let h: Harness;
  let scenario: Scenario;

  beforeEach(async () => {
    h = await startHarness();
    scenario = seedScenario(h.account);
  });

  afterEach(async () => {
    await h.stop();
  });

  it('records candidates PLANNED and kept AMIs KEPT, bound to the plan hash', async () => {
    // Act
    const { recorded, plan } = await planRun(h);

    // Assess
    expect(recorded).toEqual({ planHash: plan.planHash, toDelete: 4, deferred: 0, kept: 6 });
    const items = await h.ledger.listItems('run-1');
    const status = Object.fromEntries(items.map((item) => [item.id, item.status]));
    expect(status[scenario.frontInUse]).toBe('KEPT');
    expect(status[scenario.untagged]).toBe('KEPT');
    expect(status[scenario.backCandidate]).toBe('PLANNED');
    expect(status[scenario.orphanSnapshot]).toBe('PLANNED');
    expect(items.every((item) => item.planHash === plan.planHash)).toBe(true);
    expect(await h.ledger.getRun('run-1')).toMatchObject({ planHash: plan.planHash, planKey: plan.planKey });
  });

  it('defers, oldest first, the candidates beyond the run maxDeletionsPerRun', async () => {
    // Act
    const { recorded } = await planRun(h, { maxDeletionsPerRun: 2 });

    // Assess
    expect(recorded).toMatchObject({ toDelete: 2, deferred: 2 });
    const items = await h.ledger.listItems('run-1');
    const planned = items.filter((item) => item.status === 'PLANNED').map((item) => item.id);
    expect(planned.sort()).toEqual([...scenario.frontCandidates].sort());
    expect(items.find((item) => item.id === scenario.orphanSnapshot)).toMatchObject({
      status: 'DEFERRED',
      reason: 'MAX_DELETIONS_PER_RUN',
    });
  });

  it('refuses to record a plan whose hash differs from the one Rotate reported', async () => {
    // Prepare
    const { run, plan } = await planRun(h, {}, 'run-1');

    // Act
    const attempt = h.handlers.recordPlan({ run, planKey: plan.planKey, planHash: 'b'.repeat(64) });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(PlanMismatchError);
  });

  it('marks an approved plan APPROVED and returns only its (non-deferred) ids', async () => {
    // Prepare
    const { run, plan } = await planRun(h, { maxDeletionsPerRun: 3 });
    const approval = await approve(h, run, plan.planHash, plan.planKey);

    // Act
    const work = await h.handlers.loadApproved({ run, planHash: plan.planHash, approval });

    // Assess
    const snapshotsOf = (imageId: string) =>
      (h.account.images.get(imageId)?.blockDeviceMappings ?? []).map((m) => m.snapshotId);
    expect(work.batches).toEqual([
      { index: 0, executionName: 'run-1-delete-0', hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
    ]);
    expect({ images: work.images, orphanSnapshots: work.orphanSnapshots }).toEqual({
      images: [
        ...[scenario.frontCandidates[0], scenario.frontCandidates[1]].map((imageId) => ({
          imageId: imageId as string,
          snapshotIds: snapshotsOf(imageId as string),
        })),
        // Its only snapshot is also mapped by a kept AMI: not part of what is deleted.
        { imageId: scenario.backCandidate, snapshotIds: [] },
      ],
      orphanSnapshots: [],
    });
    const items = await h.ledger.listItems('run-1');
    expect(items.filter((item) => item.status === 'APPROVED')).toHaveLength(3);
    expect(items.find((item) => item.id === scenario.orphanSnapshot)?.status).toBe('DEFERRED');
    expect(await h.ledger.getRun('run-1')).toMatchObject({ status: 'DELETING', approver: 'alice' });
  });

  it('sets aside an AMI that a launch configuration started using after planning', async () => {
    // Prepare: a source the per-AMI re-check before deregistering does not read.
    const { run, plan } = await planRun(h);
    const approval = await approve(h, run, plan.planHash, plan.planKey);
    const [referenced, ...others] = scenario.frontCandidates;
    h.account.addLaunchConfiguration({
      name: 'late-lc',
      imageId: referenced as string,
      createdTime: new Date(),
    });

    // Act
    const work = await h.handlers.loadApproved({ run, planHash: plan.planHash, approval });

    // Assess
    expect(work.images.map((i) => i.imageId)).not.toContain(referenced);
    expect(work.images.map((i) => i.imageId)).toEqual(expect.arrayContaining(others));
    const item = await h.ledger.getItem('run-1', 'IMAGE', referenced as string);
    expect(item?.status).toBe('SKIPPED_IN_USE');
    expect(item?.detail).toContain('launch-configuration late-lc');
    expect(h.account.callsTo('DescribeImages')).toHaveLength(1); // planning only: the re-read skips AMIs
  });

  it('fails closed when a reference source cannot be read again at approval time', async () => {
    // Prepare
    const { run, plan } = await planRun(h);
    const approval = await approve(h, run, plan.planHash, plan.planKey);
    h.account.failNext('DescribeLaunchConfigurations', 'AccessDenied');

    // Act
    const attempt = h.handlers.loadApproved({ run, planHash: plan.planHash, approval });

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'InventoryReadError' });
    const items = await h.ledger.listItems('run-1');
    expect(items.some((item) => item.status === 'SKIPPED_IN_USE' || item.status === 'DEREGISTERED')).toBe(
      false,
    );
  });

  type Change = { approvalHash?: string; decision?: string; eventHash?: string };
  it.each<[string, Change]>([
    ['an approval of another plan hash', { approvalHash: 'c'.repeat(64) }],
    ['a rejected decision', { decision: 'REJECTED' }],
    ['a state input plan hash that differs from the recorded one', { eventHash: 'c'.repeat(64) }],
  ])('refuses %s and approves nothing', async (_what, change) => {
    // Prepare
    const { run, plan } = await planRun(h);
    const approval = await approve(h, run, plan.planHash, plan.planKey);
    const eventHash = change.eventHash ?? plan.planHash;

    // Act
    const attempt = h.handlers.loadApproved({
      run,
      planHash: eventHash,
      approval: {
        ...approval,
        planHash: change.approvalHash ?? (change.eventHash ? eventHash : approval.planHash),
        decision: (change.decision ?? 'APPROVED') as 'APPROVED',
      },
    });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ApprovalMismatchError);
    const items = await h.ledger.listItems('run-1');
    expect(items.some((item) => item.status === 'APPROVED')).toBe(false);
    expect(await h.ledger.getRun('run-1')).toMatchObject({ status: 'AWAITING_APPROVAL' });
  });

  it('refuses when the ledger holds no used approval for the plan, even if the payload says APPROVED', async () => {
    // Prepare
    const { run, plan } = await planRun(h);
    await h.ledger.updateRun(run.runId, { status: 'AWAITING_APPROVAL' });

    // Act
    const attempt = h.handlers.loadApproved({
      run,
      planHash: plan.planHash,
      approval: { decision: 'APPROVED', planHash: plan.planHash, approver: 'mallory' },
    });

    // Assess
    await expect(attempt).rejects.toThrow(/no APPROVED approval/);
    expect((await h.ledger.listItems('run-1')).some((item) => item.status === 'APPROVED')).toBe(false);
  });

  it('refuses a dry run', async () => {
    // Prepare
    const { run, plan } = await planRun(h, { dryRun: true });
    const approval = await approve(h, run, plan.planHash, plan.planKey);

    // Act
    const attempt = h.handlers.loadApproved({ run, planHash: plan.planHash, approval });

    // Assess
    await expect(attempt).rejects.toThrow(/dry run/);
  });

  describe('with named approvers', () => {
    const ADA = 'ada@example.com';
    const BOB = 'bob@example.com';
    const origin = { sourceIp: '192.0.2.1', userAgent: 'test' };

    async function waitForApprovers(planHash: string, planKey: string, runId: string) {
      const approvalId = `approval-${runId}`;
      await h.ledger.putApproval({
        approvalId,
        runId,
        planHash,
        planKey,
        taskToken: 'secret-task-token',
        expiresAt: new Date(Date.now() + 3600_000),
        approvers: [ADA, BOB],
        requiredApprovals: 2,
      });
      await h.ledger.updateRun(runId, { status: 'AWAITING_APPROVAL', approvalId });
      return approvalId;
    }

    it('loads a plan the quorum approved, and records both addresses as the approvers', async () => {
      // Prepare
      const { run, plan } = await planRun(h);
      const approvalId = await waitForApprovers(plan.planHash, plan.planKey, run.runId);
      const vote = { decision: 'APPROVED' as const, planHash: plan.planHash, comment: 'x', origin };
      await h.ledger.castVote(approvalId, { ...vote, approver: ADA });
      await h.ledger.castVote(approvalId, { ...vote, approver: BOB });
      const approval = { decision: 'APPROVED' as const, planHash: plan.planHash, approver: `${ADA}, ${BOB}` };

      // Act
      const work = await h.handlers.loadApproved({ run, planHash: plan.planHash, approval });

      // Assess
      expect(work.images.length).toBeGreaterThan(0);
      expect(await h.ledger.getRun(run.runId)).toMatchObject({
        status: 'DELETING',
        approver: `${ADA}, ${BOB}`,
      });
    });

    it('refuses an approval marked APPROVED in the ledger without the quorum of votes', async () => {
      // Prepare: one vote, and the approval's status forced to APPROVED (a tampered ledger).
      const { run, plan } = await planRun(h);
      const approvalId = await waitForApprovers(plan.planHash, plan.planKey, run.runId);
      await h.ledger.castVote(approvalId, {
        decision: 'APPROVED',
        planHash: plan.planHash,
        comment: 'x',
        origin,
        approver: ADA,
      });
      await h.dynamo.docClient.send(
        new UpdateCommand({
          TableName: h.dynamo.tableName,
          Key: { pk: `APPROVAL#${approvalId}`, sk: 'APPROVAL' },
          UpdateExpression: 'SET #s = :approved, decision = :approved',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':approved': 'APPROVED' },
        }),
      );

      // Act
      const attempt = h.handlers.loadApproved({
        run,
        planHash: plan.planHash,
        approval: { decision: 'APPROVED', planHash: plan.planHash, approver: ADA },
      });

      // Assess
      await expect(attempt).rejects.toThrow(/1 of 2 approvals/);
      expect((await h.ledger.listItems(run.runId)).some((item) => item.status === 'APPROVED')).toBe(false);
    });
  });
});
