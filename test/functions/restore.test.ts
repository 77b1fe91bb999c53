/**
 * `amicleaner restore`'s core and adapter on the simulated account with its Recycle Bin, after a
 * run with retention on that failed part-way: an AMI deregistered with one of its two snapshots
 * deleted, a later AMI whose deregistration failed, others done.
 */
import type { ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-ec2';
import type { InitializeMiddleware } from '@smithy/types';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RestoreRefusedError, restoreRun } from '../../functions/adapters/restore.ts';
import { RETAIN_TAG } from '../../functions/core/recycle-bin.ts';
import { createDeleteImageSnapshotsHandler } from '../../functions/delete-image-snapshots.ts';
import { createDeleteOrphanSnapshotHandler } from '../../functions/delete-orphan-snapshot.ts';
import { createDeregisterImageHandler } from '../../functions/deregister-image.ts';
import { createFinalizeHandler } from '../../functions/finalize.ts';
import {
  approvedRun,
  type Harness,
  imageItem,
  LOCK_KEY,
  NOW,
  REGION,
  type Scenario,
  seedScenario,
  startHarness,
} from './harness.ts';

const RETENTION = { imageDays: 7, snapshotDays: 14 };
const LATER = new Date(NOW.getTime() + 3600_000);

/** Fails the `n`th DeleteSnapshot this client sends (1-based), the others pass. */
function failNthDeleteSnapshot(h: Harness, n: number): void {
  let seen = 0;
  const middleware: InitializeMiddleware<ServiceInputTypes, ServiceOutputTypes> =
    (next, context) => async (args) => {
      if (context.commandName === 'DeleteSnapshotCommand' && ++seen === n) {
        throw Object.assign(new Error('not allowed'), { name: 'UnauthorizedOperation', $fault: 'client' });
      }
      return next(args);
    };
  h.clients.ec2.middlewareStack.add(middleware, { step: 'initialize', name: 'failNthDeleteSnapshot' });
}

describe('restore from the Recycle Bin', () => {
  let h: Harness;
  let scenario: Scenario;
  let twoSnapshots: string;

  beforeEach(async () => {
    h = await startHarness();
    scenario = seedScenario(h.account);
    // The oldest front.prod AMI, with two snapshots: the partial failure deletes one of them.
    twoSnapshots = h.account.addImage({
      name: 'front-0',
      creationDate: '2025-12-31T00:00:00.000Z',
      tags: { environment: 'prod', role: 'front' },
      volumes: [8, 16],
    }).imageId;
    const tag = { key: RETAIN_TAG.key, value: RETAIN_TAG.value };
    h.account.recycleBin.addRule({ resourceType: 'EC2_IMAGE', tag, retentionDays: RETENTION.imageDays });
    h.account.recycleBin.addRule({
      resourceType: 'EBS_SNAPSHOT',
      tag,
      retentionDays: RETENTION.snapshotDays,
    });
  });

  afterEach(async () => {
    await h.stop();
  });

  /** The run: front-0 fails after 1 of 2 snapshots, front-1 is done, front-3 fails to deregister, the orphan is done. */
  async function partiallyFailedRun() {
    const deps = {
      ledger: h.ledger,
      clients: h.clients,
      region: REGION,
      now: () => NOW,
      recycleBin: RETENTION,
    };
    const deregister = createDeregisterImageHandler(deps);
    const deleteSnapshots = createDeleteImageSnapshotsHandler(deps);
    const deleteOrphan = createDeleteOrphanSnapshotHandler(deps);
    const finalize = createFinalizeHandler({ ...deps, pricePerGibMonth: 0.05 });
    const { run, plan, approval, work } = await approvedRun(h);
    const [done, later] = scenario.frontCandidates as [string, string];
    const ev = (imageId: string) => imageItem(plan.planHash, imageId, work);

    await deregister(ev(twoSnapshots));
    failNthDeleteSnapshot(h, 2);
    await expect(deleteSnapshots(ev(twoSnapshots))).rejects.toMatchObject({ name: 'UnauthorizedOperation' });
    await h.handlers.recordFailure({
      ...ev(twoSnapshots),
      error: { Error: 'UnauthorizedOperation', Cause: 'denied' },
    });
    await deregister(ev(done));
    await deleteSnapshots(ev(done));
    await deleteOrphan({ runId: 'run-1', planHash: plan.planHash, snapshotId: scenario.orphanSnapshot });
    h.account.failNext('DeregisterImage', 'UnauthorizedOperation');
    await expect(deregister(ev(later))).rejects.toMatchObject({ name: 'UnauthorizedOperation' });
    await h.handlers.recordFailure({
      ...ev(later),
      error: { Error: 'UnauthorizedOperation', Cause: 'denied' },
    });
    const summary = await finalize({ run, outcome: 'APPROVED', planHash: plan.planHash, approval });
    await h.handlers.releaseLock({ run });
    const [kept, deleted] = [ev(twoSnapshots).snapshotIds[1], ev(twoSnapshots).snapshotIds[0]] as [
      string,
      string,
    ];
    return { summary, done, later, kept, deleted, ev };
  }

  const restore = (request: { imageIds?: string[]; dryRun?: boolean } = {}) =>
    restoreRun(
      { ledger: h.ledger, ec2: h.clients.ec2, region: REGION, now: () => LATER },
      {
        runId: 'run-1',
        dryRun: request.dryRun ?? false,
        ...(request.imageIds ? { imageIds: request.imageIds } : {}),
      },
    );

  it('the summary of a run with retention says when the saving starts', async () => {
    // Act
    const { summary } = await partiallyFailedRun();

    // Assess
    expect(summary.status).toBe('COMPLETED_WITH_FAILURES');
    expect(summary.recycleBin).toEqual({
      imageDays: 7,
      snapshotDays: 14,
      savingStartsAt: '2026-05-15T12:00:00.000Z',
    });
  });

  it('restores after a partial failure: the deleted snapshot first, then the AMI; the done AMI and the orphan; records RESTORED', async () => {
    // Prepare
    const { done, later, kept, deleted, ev } = await partiallyFailedRun();
    expect(h.account.images.has(twoSnapshots)).toBe(false);
    expect(h.account.snapshots.has(deleted)).toBe(false);
    expect(h.account.snapshots.has(kept)).toBe(true);
    const calls = h.account.calls.length;

    // Act
    const report = await restore();

    // Assess: what came back, in order
    const byId = new Map(report.results.map((r) => [r.id, r]));
    expect(byId.get(twoSnapshots)).toMatchObject({
      outcome: 'restored',
      snapshotIds: [deleted],
      image: true,
    });
    expect(byId.get(done)).toMatchObject({
      outcome: 'restored',
      snapshotIds: ev(done).snapshotIds,
      image: true,
    });
    expect(byId.get(scenario.orphanSnapshot)).toMatchObject({ outcome: 'restored' });
    expect(byId.get(later)).toMatchObject({ outcome: 'refused', reason: 'not-deleted' });
    const restores = h.account.calls
      .slice(calls)
      .filter((c) => c.command.startsWith('Restore'))
      .map((c) => `${c.command}:${String(c.input.ImageId ?? c.input.SnapshotId)}`);
    const imageAt = restores.indexOf(`RestoreImageFromRecycleBin:${twoSnapshots}`);
    expect(restores[imageAt - 1]).toBe(`RestoreSnapshotFromRecycleBin:${deleted}`);
    expect(restores.filter((r) => r.includes(kept))).toEqual([]);
    for (const id of [twoSnapshots, done, later]) expect(h.account.images.has(id)).toBe(true);
    for (const id of [deleted, kept, scenario.orphanSnapshot]) expect(h.account.snapshots.has(id)).toBe(true);

    // Assess: the ledger
    expect(await h.ledger.getItem('run-1', 'IMAGE', twoSnapshots)).toMatchObject({
      status: 'RESTORED',
      restoredAt: LATER.toISOString(),
      restoredSnapshots: [deleted],
      restoredImage: true,
    });
    expect((await h.ledger.getItem('run-1', 'IMAGE', later))?.status).toBe('FAILED');
    expect((await h.ledger.getItem('run-1', 'SNAPSHOT', scenario.orphanSnapshot))?.status).toBe('RESTORED');
    // Nothing left for a later run to "finish" (re-delete): the AMI exists again. (`later` keeps the
    // intent its failed deregistration left; the next run drops it, its AMI exists.)
    const intents = (await h.ledger.listDeregistrationIntents(LOCK_KEY)).map((i) => i.imageId);
    expect(intents).not.toContain(twoSnapshots);
    expect(intents).toEqual([later]);
    expect(await h.ledger.getLock(LOCK_KEY)).toBeUndefined();
  });

  it('a second restore restores nothing and says already restored', async () => {
    // Prepare
    await partiallyFailedRun();
    await restore();
    const calls = h.account.calls.length;

    // Act
    const again = await restore();

    // Assess
    expect(again.results.filter((r) => r.outcome !== 'refused')).toEqual([]);
    expect(new Set(again.results.filter((r) => r.reason !== 'not-deleted').map((r) => r.reason))).toEqual(
      new Set(['already-restored']),
    );
    expect(h.account.calls.slice(calls).filter((c) => h.account.isMutating(c.command))).toEqual([]);
  });

  it('--dry-run lists what it would restore and changes nothing (no restore call, no ledger write, no lock)', async () => {
    // Prepare
    const { done } = await partiallyFailedRun();
    const before = await h.ledger.listItems('run-1');
    const calls = h.account.calls.length;

    // Act
    const report = await restore({ dryRun: true });

    // Assess
    expect(report.results.find((r) => r.id === done)).toMatchObject({
      outcome: 'would-restore',
      image: true,
    });
    expect(h.account.calls.slice(calls).filter((c) => h.account.isMutating(c.command))).toEqual([]);
    expect(await h.ledger.listItems('run-1')).toEqual(before);
    expect(h.account.images.has(done)).toBe(false);
  });

  it('--ami restores only the AMIs named', async () => {
    // Prepare
    const { done } = await partiallyFailedRun();

    // Act
    const report = await restore({ imageIds: [done] });

    // Assess
    expect(report.results.map((r) => [r.id, r.outcome])).toEqual([[done, 'restored']]);
    expect(h.account.images.has(twoSnapshots)).toBe(false);
  });

  it('says why an AMI cannot be restored once a snapshot it needs left the bin, and leaves the AMI there', async () => {
    // Prepare: the deleted snapshot was purged from the bin (as by its retention ending).
    const { deleted } = await partiallyFailedRun();
    h.account.recycleBin.takeSnapshot(deleted);

    // Act
    const report = await restore({ imageIds: [twoSnapshots] });

    // Assess
    expect(report.results[0]).toMatchObject({ outcome: 'refused', reason: 'not-found' });
    expect(report.results[0]?.detail).toContain(deleted);
    expect(h.account.callsTo('RestoreImageFromRecycleBin')).toEqual([]);
  });

  it('refuses to start for an AMI not in the run, a run still deleting, or a held lock, changing nothing', async () => {
    // Prepare
    await partiallyFailedRun();

    // Act / Assess
    await expect(restore({ imageIds: ['ami-0123456789abcdef0'] })).rejects.toMatchObject({ badInput: true });
    await h.ledger.acquireLock(LOCK_KEY, 'run-2', 3600, NOW);
    await expect(restore()).rejects.toBeInstanceOf(RestoreRefusedError);
    await h.ledger.updateRun('run-1', { status: 'DELETING' });
    await expect(restore()).rejects.toThrow(/still DELETING/);
    expect(h.account.callsTo('RestoreImageFromRecycleBin')).toEqual([]);
    expect(h.account.callsTo('RestoreSnapshotFromRecycleBin')).toEqual([]);
  });
});
