/**
 * Recycle Bin retention on: the deletion steps tag right before deleting, in one CreateTags per
 * AMI, and a tag that fails means nothing is deleted (fail closed). Each fault case starts with
 * `fault:` (counted by bench/safety.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TransientAwsError } from '../../functions/adapters/errors.ts';
import { RetentionTagError } from '../../functions/adapters/recycle-bin.ts';
import { RETAIN_TAG, RUN_TAG_KEY } from '../../functions/core/recycle-bin.ts';
import { createDeleteImageSnapshotsHandler } from '../../functions/delete-image-snapshots.ts';
import { createDeleteOrphanSnapshotHandler } from '../../functions/delete-orphan-snapshot.ts';
import { createDeregisterImageHandler } from '../../functions/deregister-image.ts';
import { createFinishEarlierRunsHandler } from '../../functions/finish-earlier-runs.ts';
import {
  approvedRun,
  executionEvent,
  type Harness,
  imageItem,
  LOCK_KEY,
  NOW,
  REGION,
  type Scenario,
  seedScenario,
  startHarness,
} from '../functions/harness.ts';

const RETENTION = { imageDays: 7, snapshotDays: 14 };

describe('Recycle Bin tagging before deletion', () => {
  let h: Harness;
  let scenario: Scenario;
  let retained: ReturnType<typeof handlers>;

  const handlers = (harness: Harness) => {
    const deps = { ledger: harness.ledger, clients: harness.clients, region: REGION, now: () => NOW };
    return {
      deregister: createDeregisterImageHandler({ ...deps, recycleBin: RETENTION }),
      deleteSnapshots: createDeleteImageSnapshotsHandler(deps),
      deleteOrphan: createDeleteOrphanSnapshotHandler({ ...deps, recycleBin: RETENTION }),
      finishEarlierRuns: createFinishEarlierRunsHandler({ ...deps, recycleBin: RETENTION }),
    };
  };

  beforeEach(async () => {
    h = await startHarness();
    scenario = seedScenario(h.account);
    retained = handlers(h);
  });

  afterEach(async () => {
    await h.stop();
  });

  it('tags the AMI and its snapshots with one CreateTags right before DeregisterImage, and records the retention', async () => {
    // Prepare
    const { plan, work } = await approvedRun(h);
    const imageId = scenario.frontCandidates[0] as string;
    const snapshotIds = imageItem(plan.planHash, imageId, work).snapshotIds;
    const calls = h.account.calls.length;

    // Act
    await retained.deregister(imageItem(plan.planHash, imageId, work));

    // Assess: CreateTags once, naming the AMI and every approved snapshot, before the deregistration
    const after = h.account.calls.slice(calls).map((c) => c.command);
    expect(after.filter((c) => c === 'CreateTags')).toHaveLength(1);
    expect(after.indexOf('CreateTags')).toBeLessThan(after.indexOf('DeregisterImage'));
    expect(h.account.callsTo('CreateTags')[0]?.input.Resources).toEqual([imageId, ...snapshotIds]);
    for (const snapshotId of snapshotIds) {
      expect(h.account.snapshots.get(snapshotId)?.tags).toMatchObject({
        [RETAIN_TAG.key]: RETAIN_TAG.value,
        [RUN_TAG_KEY]: 'run-1',
      });
    }
    expect(await h.ledger.getItem('run-1', 'IMAGE', imageId)).toMatchObject({
      status: 'DEREGISTERED',
      retainedUntil: '2026-05-08T12:00:00.000Z',
      snapshotsRetainedUntil: '2026-05-15T12:00:00.000Z',
    });
  });

  it.each([
    ['UnauthorizedOperation', RetentionTagError],
    ['InvalidSnapshot.NotFound', RetentionTagError],
    ['RequestLimitExceeded', TransientAwsError],
  ])('fault: CreateTags failing with %s deregisters nothing and deletes no snapshot', async (code, kind) => {
    // Prepare
    const { plan, work } = await approvedRun(h);
    const imageId = scenario.frontCandidates[0] as string;
    h.account.failNext('CreateTags', code);

    // Act
    const attempt = retained.deregister(imageItem(plan.planHash, imageId, work));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(kind);
    expect(h.account.images.has(imageId)).toBe(true);
    expect(h.account.callsTo('DeregisterImage')).toEqual([]);
    expect(h.account.callsTo('DeleteSnapshot')).toEqual([]);
    expect((await h.ledger.getItem('run-1', 'IMAGE', imageId))?.status).toBe('APPROVED');
  });

  it('fault: a retry after DeregisterImage answered (AMI gone, ledger not moved) tags the snapshots alone, then finishes', async () => {
    // Prepare: the first attempt tagged and deregistered, but its ledger write was lost.
    const { plan, work } = await approvedRun(h);
    const imageId = scenario.frontCandidates[0] as string;
    const event = imageItem(plan.planHash, imageId, work);
    h.account.removeImage(imageId);

    // Act
    const result = await retained.deregister(event);
    await retained.deleteSnapshots(event);

    // Assess: two CreateTags (the AMI is gone, then its snapshots alone), each snapshot in the bin
    expect(result.outcome).toBe('already-gone');
    expect(h.account.callsTo('CreateTags').map((c) => c.error ?? 'ok')).toEqual([
      'InvalidAMIID.NotFound',
      'ok',
    ]);
    expect(h.account.callsTo('CreateTags')[1]?.input.Resources).toEqual(event.snapshotIds);
  });

  it('fault: an orphan snapshot whose tag fails is not deleted', async () => {
    // Prepare
    const { plan } = await approvedRun(h);
    h.account.failNext('CreateTags', 'UnauthorizedOperation');

    // Act
    const attempt = retained.deleteOrphan({
      runId: 'run-1',
      planHash: plan.planHash,
      snapshotId: scenario.orphanSnapshot,
    });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(RetentionTagError);
    expect(h.account.snapshots.has(scenario.orphanSnapshot)).toBe(true);
    expect(h.account.callsTo('DeleteSnapshot')).toEqual([]);
  });

  it('fault: an earlier run left unfinished whose snapshots cannot be tagged stays for a later run', async () => {
    // Prepare: run-1 deregistered an AMI, then stopped before its snapshots (intent left).
    const { plan, work } = await approvedRun(h);
    const imageId = scenario.frontCandidates[0] as string;
    const event = imageItem(plan.planHash, imageId, work);
    await retained.deregister(event);
    await h.ledger.releaseLock(LOCK_KEY, 'run-1');
    const { run } = await h.handlers.acquireLock(executionEvent({}, 'run-2'));
    h.account.failNext('CreateTags', 'UnauthorizedOperation');

    // Act
    const result = await retained.finishEarlierRuns({ run });

    // Assess: nothing deleted, the intent kept
    expect(result).toMatchObject({ finished: 0, unfinished: 1 });
    for (const snapshotId of event.snapshotIds) expect(h.account.snapshots.has(snapshotId)).toBe(true);
    expect(await h.ledger.listDeregistrationIntents(LOCK_KEY)).toHaveLength(1);
  });
});
