import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TransientAwsError } from '../../functions/adapters/errors.ts';
import { NotApprovedError } from '../../functions/commons/errors.ts';
import { LockLostError } from '../../functions/commons/lock-fence.ts';
import { ImageNotDeregisteredError } from '../../functions/delete-image-snapshots.ts';
import {
  approvedRun,
  type Harness,
  imageItem,
  LOCK_KEY,
  NOW,
  planRun,
  type Scenario,
  seedScenario,
  startHarness,
} from './harness.ts';

/** What a hostile ledger writer does: rewrites an item's snapshot list in place. */
async function appendSnapshot(h: Harness, imageId: string, snapshotId: string): Promise<void> {
  const current = await h.ledger.getItem('run-1', 'IMAGE', imageId);
  await h.dynamo.docClient.send(
    new UpdateCommand({
      TableName: h.dynamo.tableName,
      Key: { pk: 'RUN#run-1', sk: `IMAGE#${imageId}` },
      UpdateExpression: 'SET snapshots = :s',
      ExpressionAttributeValues: { ':s': [...(current?.snapshots ?? []), { snapshotId, sizeGiB: 500 }] },
    }),
  );
}

describe('deletion handlers', () => {
  let h: Harness;
  let scenario: Scenario;

  beforeEach(async () => {
    h = await startHarness();
    scenario = seedScenario(h.account);
  });

  afterEach(async () => {
    await h.stop();
  });

  const item = async (id: string, kind: 'IMAGE' | 'SNAPSHOT' = 'IMAGE') =>
    h.ledger.getItem('run-1', kind, id);

  describe('fencing by the lock', () => {
    it('refuses to deregister or delete once another run holds the lock (a stopped run still working)', async () => {
      // Prepare: run-1 was stopped; close-abandoned-run released its lock and run-2 took it.
      const { plan, work } = await approvedRun(h);
      const imageId = scenario.frontCandidates[0] as string;
      await h.ledger.releaseLock(LOCK_KEY, 'run-1');
      await h.ledger.acquireLock(LOCK_KEY, 'run-2', 3600, NOW);

      // Act (settled together, so neither rejection goes unobserved while the other is awaited)
      const [attempt, orphan] = await Promise.allSettled([
        h.handlers.deregister(imageItem(plan.planHash, imageId, work)),
        h.handlers.deleteOrphan({
          runId: 'run-1',
          planHash: plan.planHash,
          snapshotId: scenario.orphanSnapshot,
        }),
      ]);

      // Assess
      expect(attempt).toMatchObject({ status: 'rejected', reason: expect.any(LockLostError) });
      expect(orphan).toMatchObject({ status: 'rejected', reason: expect.any(LockLostError) });
      expect(h.account.images.has(imageId)).toBe(true);
      expect(h.account.snapshots.has(scenario.orphanSnapshot)).toBe(true);
      expect(h.account.callsTo('DeregisterImage')).toEqual([]);
      expect(h.account.callsTo('DeleteSnapshot')).toEqual([]);
    });
  });

  describe('finish-earlier-runs', () => {
    /** run-1 deregistered one AMI and stopped before its snapshots; run-2 now holds the lock. */
    let run2: Awaited<ReturnType<typeof approvedRun>>['run'] | undefined;
    async function strandedByRun1(): Promise<{ imageId: string; approvedSnapshots: string[] }> {
      const { plan, work, run } = await approvedRun(h);
      run2 = { ...run, runId: 'run-2' };
      const imageId = scenario.frontCandidates[0] as string;
      await h.handlers.deregister(imageItem(plan.planHash, imageId, work));
      await h.ledger.releaseLock(LOCK_KEY, 'run-1');
      await h.ledger.acquireLock(LOCK_KEY, 'run-2', 3600, NOW);
      const approvedSnapshots = [...(imageItem(plan.planHash, imageId, work).snapshotIds ?? [])];
      expect(approvedSnapshots.length).toBeGreaterThan(0);
      return { imageId, approvedSnapshots };
    }
    const finish = () => h.handlers.finishEarlierRuns({ run: run2 as NonNullable<typeof run2> });

    it('deletes the approved snapshots a stopped run left behind and records the item DONE', async () => {
      // Prepare
      const { imageId, approvedSnapshots } = await strandedByRun1();

      // Act
      const result = await finish();

      // Assess
      expect(result).toMatchObject({
        finished: 1,
        snapshotsDeleted: approvedSnapshots.length,
        unfinished: 0,
      });
      expect(approvedSnapshots.filter((id) => h.account.snapshots.has(id))).toEqual([]);
      expect(await item(imageId)).toMatchObject({ status: 'DONE', finishedByRunId: 'run-2' });
    });

    it('deletes nothing of a run whose ledger was widened after approval (item and intent both name a foreign snapshot)', async () => {
      // Prepare: a hostile ledger writer adds an unrelated snapshot to the item and its intent.
      const { imageId, approvedSnapshots } = await strandedByRun1();
      const foreign = h.account.addSnapshot({ sizeGiB: 500, startTime: NOW }).snapshotId;
      await appendSnapshot(h, imageId, foreign);
      await h.ledger.recordDeregistrationIntent(LOCK_KEY, {
        runId: 'run-1',
        imageId,
        snapshotIds: [...approvedSnapshots, foreign],
      });

      // Act
      const result = await finish();

      // Assess: bound by content, the run's plan no longer hashes to its approval; fail closed.
      expect(result).toMatchObject({ finished: 0, snapshotsDeleted: 0, unfinished: 1 });
      expect(h.account.snapshots.has(foreign)).toBe(true);
      expect(h.account.callsTo('DeleteSnapshot')).toEqual([]);
      expect(await h.ledger.listDeregistrationIntents(LOCK_KEY)).toHaveLength(1);
    });

    it('deletes only the approved snapshots when just the intent was widened', async () => {
      // Prepare
      const { imageId, approvedSnapshots } = await strandedByRun1();
      const foreign = h.account.addSnapshot({ sizeGiB: 500, startTime: NOW }).snapshotId;
      await h.ledger.recordDeregistrationIntent(LOCK_KEY, {
        runId: 'run-1',
        imageId,
        snapshotIds: [...approvedSnapshots, foreign],
      });

      // Act
      const result = await finish();

      // Assess
      expect(result).toMatchObject({ finished: 1, snapshotsDeleted: approvedSnapshots.length });
      expect(h.account.snapshots.has(foreign)).toBe(true);
    });
  });

  describe('deregister-image', () => {
    it('deregisters an approved, unused AMI and records DEREGISTERED with one attempt', async () => {
      // Prepare
      const { plan, work } = await approvedRun(h);
      const imageId = scenario.frontCandidates[0] as string;

      // Act
      const result = await h.handlers.deregister(imageItem(plan.planHash, imageId, work));

      // Assess
      expect(result).toEqual({ imageId, outcome: 'deregistered' });
      expect(h.account.images.has(imageId)).toBe(false);
      expect(await item(imageId)).toMatchObject({
        status: 'DEREGISTERED',
        attempts: 1,
        deregisterOutcome: 'deregistered',
      });
    });

    it('skips an AMI that became in use after planning and records SKIPPED_IN_USE with the reference', async () => {
      // Prepare
      const { plan, work } = await approvedRun(h);
      const imageId = scenario.frontCandidates[0] as string;
      const instance = h.account.addInstance({ imageId, launchTime: '2026-05-01T11:00:00.000Z' });

      // Act
      const result = await h.handlers.deregister(imageItem(plan.planHash, imageId, work));

      // Assess
      expect(result).toEqual({ imageId, outcome: 'skipped-in-use' });
      expect(h.account.images.has(imageId)).toBe(true);
      expect(h.account.callsTo('DeregisterImage')).toHaveLength(0);
      const recorded = await item(imageId);
      expect(recorded?.status).toBe('SKIPPED_IN_USE');
      expect(recorded?.references).toEqual([`instance ${instance.instanceId} (running)`]);
    });

    it('skips an AMI a launch template $Latest started using after planning', async () => {
      // Prepare
      const { plan, work } = await approvedRun(h);
      const imageId = scenario.backCandidate;
      h.account.addLaunchTemplate({
        name: 'web',
        versions: [{ imageId }],
        createTime: '2026-05-01T11:00:00.000Z',
      });

      // Act
      const result = await h.handlers.deregister(imageItem(plan.planHash, imageId, work));

      // Assess
      expect(result.outcome).toBe('skipped-in-use');
      expect(h.account.images.has(imageId)).toBe(true);
    });

    it('asks DescribeImageReferences again right before deregistering: a parameter set after approval keeps the AMI', async () => {
      // Prepare: an SSM parameter (a source Deregister does not read itself) now names the AMI.
      const { plan, work } = await approvedRun(h);
      const imageId = scenario.frontCandidates[0] as string;
      h.account.putParameter('/other-team/base-ami', imageId);

      // Act
      const result = await h.handlers.deregister(imageItem(plan.planHash, imageId, work));

      // Assess
      expect(result).toEqual({ imageId, outcome: 'skipped-in-use' });
      expect(h.account.images.has(imageId)).toBe(true);
      expect(h.account.callsTo('DeregisterImage')).toEqual([]);
      expect(await item(imageId)).toMatchObject({
        status: 'SKIPPED_IN_USE',
        references: [],
        awsReferences: ['ssm:Parameter arn:aws:ssm:eu-west-1:123456789012:parameter/other-team/base-ami'],
      });
    });

    it('refuses an item that is not APPROVED (invariant 1) and touches no AMI', async () => {
      // Prepare: planned, but never approved
      const { plan } = await planRun(h);
      const imageId = scenario.frontCandidates[0] as string;

      // Act
      const attempt = h.handlers.deregister(imageItem(plan.planHash, imageId));

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(NotApprovedError);
      await expect(attempt).rejects.toThrow(/is PLANNED, not APPROVED/);
      expect(h.account.mutatingCalls()).toEqual([]);
      expect(await item(imageId)).toMatchObject({ status: 'PLANNED', attempts: 0 });
    });

    it.each([
      ['a kept AMI', (s: Scenario) => s.frontInUse, undefined],
      [
        'an AMI not in the ledger',
        (s: Scenario) => s.untagged.replace(/.$/, (c) => (c === '0' ? '1' : '0')),
        undefined,
      ],
      ['another plan hash', (s: Scenario) => s.frontCandidates[0] as string, 'd'.repeat(64)],
    ])('refuses %s', async (_what, pick, hash) => {
      // Prepare
      const { plan, work } = await approvedRun(h);

      // Act
      const attempt = h.handlers.deregister(imageItem(hash ?? plan.planHash, pick(scenario), work));

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(NotApprovedError);
      expect(h.account.mutatingCalls()).toEqual([]);
    });

    it('refuses to deregister an AMI whose ledger snapshot list changed after LoadApproved', async () => {
      // Prepare
      const { plan, work } = await approvedRun(h);
      const imageId = scenario.frontCandidates[0] as string;
      await appendSnapshot(h, imageId, 'snap-0123456789abcdef0');

      // Act
      const attempt = h.handlers.deregister(imageItem(plan.planHash, imageId, work));

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(NotApprovedError);
      await expect(attempt).rejects.toThrow(/no longer match the approved ones/);
      expect(h.account.mutatingCalls()).toEqual([]);
    });

    it('is a no-op the second time', async () => {
      // Prepare
      const { plan, work } = await approvedRun(h);
      const imageId = scenario.frontCandidates[0] as string;
      const event = imageItem(plan.planHash, imageId, work);
      await h.handlers.deregister(event);

      // Act
      const second = await h.handlers.deregister(event);

      // Assess
      expect(second).toEqual({ imageId, outcome: 'already-done' });
      expect(h.account.callsTo('DeregisterImage')).toHaveLength(1);
      expect(await item(imageId)).toMatchObject({ status: 'DEREGISTERED', attempts: 1 });
    });

    it('counts an AMI already gone (a crash after DeregisterImage) as deregistered', async () => {
      // Prepare
      const { plan, work } = await approvedRun(h);
      const imageId = scenario.frontCandidates[0] as string;
      h.account.removeImage(imageId);

      // Act
      const result = await h.handlers.deregister(imageItem(plan.planHash, imageId, work));

      // Assess
      expect(result.outcome).toBe('already-gone');
      expect(await item(imageId)).toMatchObject({ status: 'DEREGISTERED' });
    });

    it('surfaces throttling as TransientAwsError after the SDK retries, leaving the item APPROVED', async () => {
      // Prepare
      const patient = await startHarness({ maxAttempts: 2 });
      try {
        const s = seedScenario(patient.account);
        const { plan, work } = await approvedRun(patient);
        const imageId = s.frontCandidates[0] as string;
        patient.account.failNext('DeregisterImage', 'RequestLimitExceeded', 2);

        // Act
        const attempt = patient.handlers.deregister(imageItem(plan.planHash, imageId, work));

        // Assess
        await expect(attempt).rejects.toBeInstanceOf(TransientAwsError);
        await expect(attempt).rejects.toMatchObject({
          name: 'TransientAwsError',
          operation: 'DeregisterImage',
        });
        expect(patient.account.callsTo('DeregisterImage')).toHaveLength(2);
        expect(patient.account.images.has(imageId)).toBe(true);
        expect(await patient.ledger.getItem('run-1', 'IMAGE', imageId)).toMatchObject({
          status: 'APPROVED',
          attempts: 1,
        });
      } finally {
        await patient.stop();
      }
    });

    it('lets a non-retryable AWS error propagate by its own name, for the Map Catch', async () => {
      // Prepare
      const { plan, work } = await approvedRun(h);
      const imageId = scenario.frontCandidates[0] as string;
      h.account.failNext('DeregisterImage', 'UnauthorizedOperation');

      // Act
      const attempt = h.handlers.deregister(imageItem(plan.planHash, imageId, work));

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'UnauthorizedOperation' });
      await expect(attempt).rejects.not.toBeInstanceOf(TransientAwsError);
    });
  });

  describe('delete-image-snapshots', () => {
    it('deletes the snapshots of a deregistered AMI and records DONE with GiB freed', async () => {
      // Prepare
      const { plan, work } = await approvedRun(h);
      const imageId = scenario.frontCandidates[0] as string;
      const snapshotId = h.account.images.get(imageId)?.blockDeviceMappings[0]?.snapshotId as string;
      const event = imageItem(plan.planHash, imageId, work);
      await h.handlers.deregister(event);

      // Act
      const result = await h.handlers.deleteSnapshots(event);

      // Assess
      expect(result).toEqual({ imageId, outcome: 'done', deleted: [snapshotId], skipped: [], gibFreed: 8 });
      expect(h.account.snapshots.has(snapshotId)).toBe(false);
      expect(await item(imageId)).toMatchObject({ status: 'DONE', gibFreed: 8, snapshotsDeleted: 1 });
    });

    it('leaves out of the Map item a snapshot a kept AMI maps at planning, and deletes nothing of it', async () => {
      // Prepare
      const { plan, work } = await approvedRun(h);
      const event = imageItem(plan.planHash, scenario.backCandidate, work);
      await h.handlers.deregister(event);

      // Act
      const result = await h.handlers.deleteSnapshots(event);

      // Assess
      expect(event.snapshotIds).toEqual([]);
      expect(result).toMatchObject({ deleted: [], skipped: [], gibFreed: 0 });
      expect(h.account.snapshots.has(scenario.sharedSnapshot)).toBe(true);
      expect(h.account.callsTo('DeleteSnapshot')).toHaveLength(0);
      expect(await item(scenario.backCandidate)).toMatchObject({ status: 'DONE', gibFreed: 0 });
    });

    it('keeps an approved snapshot that an AMI registered after approval maps (invariant 4)', async () => {
      // Prepare
      const { plan, work } = await approvedRun(h);
      const imageId = scenario.frontCandidates[0] as string;
      const event = imageItem(plan.planHash, imageId, work);
      const snapshotId = event.snapshotIds[0] as string;
      const late = h.account.addImage({
        name: 'late',
        creationDate: '2026-05-01T11:00:00.000Z',
        volumes: [],
        existingSnapshots: [{ snapshotId }],
      });
      await h.handlers.deregister(event);

      // Act
      const result = await h.handlers.deleteSnapshots(event);

      // Assess
      expect(result).toMatchObject({
        deleted: [],
        skipped: [{ snapshotId, reason: `shared with ${late.imageId}` }],
        gibFreed: 0,
      });
      expect(h.account.snapshots.has(snapshotId)).toBe(true);
      expect(h.account.callsTo('DeleteSnapshot')).toHaveLength(0);
    });

    it('deletes only the snapshot ids of its Map item, not one appended to the ledger item after approval', async () => {
      // Prepare: a ledger writer adds a kept AMI's snapshot to an approved AMI after LoadApproved
      const { plan, work } = await approvedRun(h);
      const imageId = scenario.frontCandidates[0] as string;
      const event = imageItem(plan.planHash, imageId, work);
      await h.handlers.deregister(event);
      const foreign = h.account.addSnapshot({
        sizeGiB: 500,
        startTime: '2026-01-01T00:00:00.000Z',
        description: 'backup',
      });
      await appendSnapshot(h, imageId, foreign.snapshotId);

      // Act
      const result = await h.handlers.deleteSnapshots(event);

      // Assess
      expect(result.deleted).toEqual(event.snapshotIds);
      expect(h.account.snapshots.has(foreign.snapshotId)).toBe(true);
      expect(await item(imageId)).toMatchObject({
        status: 'DONE',
        unapprovedSnapshotsLeft: [foreign.snapshotId],
      });
    });

    it('refuses an event without its verified snapshot ids and deletes nothing', async () => {
      // Prepare
      const { plan, work } = await approvedRun(h);
      const imageId = scenario.frontCandidates[0] as string;
      const { snapshotIds: _dropped, ...event } = imageItem(plan.planHash, imageId, work);

      // Act
      const attempts = [h.handlers.deregister(event as never), h.handlers.deleteSnapshots(event as never)];

      // Assess
      for (const attempt of attempts)
        await expect(attempt).rejects.toMatchObject({ name: 'InvalidEventError' });
      expect(h.account.mutatingCalls()).toEqual([]);
    });

    it('counts a snapshot already deleted as done, but not as freed by this run', async () => {
      // Prepare
      const { plan, work } = await approvedRun(h);
      const imageId = scenario.frontCandidates[0] as string;
      const snapshotId = h.account.images.get(imageId)?.blockDeviceMappings[0]?.snapshotId as string;
      const event = imageItem(plan.planHash, imageId, work);
      await h.handlers.deregister(event);
      h.account.removeSnapshot(snapshotId);

      // Act
      const result = await h.handlers.deleteSnapshots(event);

      // Assess
      expect(result).toMatchObject({ outcome: 'done', deleted: [snapshotId], skipped: [], gibFreed: 0 });
      expect(await item(imageId)).toMatchObject({ status: 'DONE' });
    });

    it('finishes without harm when re-run after a crash between deregister and delete', async () => {
      // Prepare: the first Deregister attempt deregistered, then its Lambda died before recording it
      const { plan, work } = await approvedRun(h);
      const imageId = scenario.frontCandidates[1] as string;
      const snapshotId = h.account.images.get(imageId)?.blockDeviceMappings[0]?.snapshotId as string;
      h.account.removeImage(imageId);
      const event = imageItem(plan.planHash, imageId, work);

      // Act: the Map retries Deregister, then DeleteSnapshots runs (twice, as after a second crash)
      const deregistered = await h.handlers.deregister(event);
      const first = await h.handlers.deleteSnapshots(event);
      const second = await h.handlers.deleteSnapshots(event);

      // Assess
      expect(deregistered.outcome).toBe('already-gone');
      expect(first).toMatchObject({ outcome: 'done', deleted: [snapshotId], gibFreed: 8 });
      expect(second).toMatchObject({ outcome: 'nothing-to-do', deleted: [] });
      expect(h.account.snapshots.has(snapshotId)).toBe(false);
      expect(h.account.callsTo('DeleteSnapshot')).toHaveLength(1);
      expect(await item(imageId)).toMatchObject({ status: 'DONE', gibFreed: 8 });
    });

    it('does nothing for an AMI kept as in use', async () => {
      // Prepare
      const { plan, work } = await approvedRun(h);
      const imageId = scenario.frontCandidates[0] as string;
      h.account.addInstance({ imageId, launchTime: '2026-05-01T11:00:00.000Z' });
      const event = imageItem(plan.planHash, imageId, work);
      await h.handlers.deregister(event);

      // Act
      const result = await h.handlers.deleteSnapshots(event);

      // Assess
      expect(result.outcome).toBe('nothing-to-do');
      expect(h.account.mutatingCalls()).toEqual([]);
      expect(await item(imageId)).toMatchObject({ status: 'SKIPPED_IN_USE' });
    });

    it('refuses an AMI that was approved but not deregistered', async () => {
      // Prepare
      const { plan, work } = await approvedRun(h);
      const imageId = scenario.frontCandidates[0] as string;

      // Act
      const attempt = h.handlers.deleteSnapshots(imageItem(plan.planHash, imageId, work));

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(ImageNotDeregisteredError);
      expect(h.account.mutatingCalls()).toEqual([]);
    });

    it('surfaces a throttled snapshot re-check as TransientAwsError and stays DEREGISTERED', async () => {
      // Prepare
      const { plan, work } = await approvedRun(h);
      const imageId = scenario.frontCandidates[0] as string;
      const event = imageItem(plan.planHash, imageId, work);
      await h.handlers.deregister(event);
      h.account.failNext('DescribeImages', 'RequestLimitExceeded');

      // Act
      const attempt = h.handlers.deleteSnapshots(event);

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(TransientAwsError);
      expect(h.account.callsTo('DeleteSnapshot')).toHaveLength(0);
      expect(await item(imageId)).toMatchObject({ status: 'DEREGISTERED' });
    });
    it('retries, rather than keeps, a snapshot EC2 still reports in use just after deregistering', async () => {
      // Prepare: no other AMI maps the snapshot; the refusal is the deregistration settling.
      const { plan, work } = await approvedRun(h);
      const imageId = scenario.frontCandidates[0] as string;
      const event = imageItem(plan.planHash, imageId, work);
      await h.handlers.deregister(event);
      h.account.failNext('DeleteSnapshot', 'InvalidSnapshot.InUse');

      // Act
      const first = h.handlers.deleteSnapshots(event);
      await expect(first).rejects.toBeInstanceOf(TransientAwsError);
      const second = await h.handlers.deleteSnapshots(event);

      // Assess
      expect(await item(imageId)).toMatchObject({ status: 'DONE' });
      expect(second.skipped).toEqual([]);
      for (const snapshotId of second.deleted) expect(h.account.snapshots.has(snapshotId)).toBe(false);
    });
  });

  describe('delete-orphan-snapshot', () => {
    it('deletes an approved orphan snapshot that is still an orphan', async () => {
      // Prepare
      const { plan, work } = await approvedRun(h);
      const snapshotId = scenario.orphanSnapshot;

      // Act
      const result = await h.handlers.deleteOrphan({ runId: 'run-1', planHash: plan.planHash, snapshotId });

      // Assess
      expect(work.orphanSnapshots).toEqual([{ snapshotId }]);
      expect(result).toEqual({ snapshotId, outcome: 'deleted' });
      expect(h.account.snapshots.has(snapshotId)).toBe(false);
      expect(await item(snapshotId, 'SNAPSHOT')).toMatchObject({ status: 'DONE', gibFreed: 30, attempts: 1 });
    });

    it('keeps it when an AMI started mapping it after planning', async () => {
      // Prepare
      const { plan } = await approvedRun(h);
      const snapshotId = scenario.orphanSnapshot;
      const user = h.account.addImage({
        name: 'restored',
        creationDate: '2026-05-01T11:00:00.000Z',
        volumes: [],
        existingSnapshots: [{ snapshotId }],
      });

      // Act
      const result = await h.handlers.deleteOrphan({ runId: 'run-1', planHash: plan.planHash, snapshotId });

      // Assess
      expect(result.outcome).toBe('skipped-in-use');
      expect(h.account.snapshots.has(snapshotId)).toBe(true);
      expect(await item(snapshotId, 'SNAPSHOT')).toMatchObject({
        status: 'SKIPPED_IN_USE',
        skipReason: `no longer an orphan: used by ${user.imageId}`,
      });
    });

    it('is a no-op once done, and refuses a snapshot that was never approved', async () => {
      // Prepare
      const { plan } = await approvedRun(h);
      const event = { runId: 'run-1', planHash: plan.planHash, snapshotId: scenario.orphanSnapshot };
      await h.handlers.deleteOrphan(event);

      // Act
      const again = await h.handlers.deleteOrphan(event);
      const stranger = h.handlers.deleteOrphan({ ...event, snapshotId: scenario.sharedSnapshot });

      // Assess
      expect(again.outcome).toBe('already-done');
      expect(h.account.callsTo('DeleteSnapshot')).toHaveLength(1);
      await expect(stranger).rejects.toBeInstanceOf(NotApprovedError);
      expect(h.account.snapshots.has(scenario.sharedSnapshot)).toBe(true);
    });
  });
});
