/**
 * DeleteSnapshots (one Map iteration, after Deregister): deletes the deregistered AMI's
 * snapshots named in its Map item (the ids LoadApproved verified, never the ledger's list), skipping every snapshot another existing AMI still maps (invariant 4), then
 * records DONE with what happened to each snapshot. Safe to repeat: a snapshot already gone
 * counts as done, and an item already DONE (or kept as in use) is a no-op.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import { TransientAwsError } from './adapters/errors.ts';
import { deleteSnapshot, snapshotUsedByOtherImage } from './adapters/image-actions.ts';
import type { Ledger } from './adapters/ledger/index.ts';
import { lazyHandler, ledgerFromEnv, targetClientsFromEnv } from './commons/deps.ts';
import { classifyFailures, ItemStateChangedError } from './commons/errors.ts';
import { requireImageItem } from './commons/events.ts';
import { loadItem } from './commons/items.ts';
import { assertHoldsLock } from './commons/lock-fence.ts';
import { createLogger, type HandlerLogger, silentLogger } from './commons/logger.ts';
import { recordedRun } from './commons/recorded-run.ts';
import { type TargetClientsDeps, targetClients } from './commons/target-clients.ts';
import { deletableSnapshotIds } from './core/deletion-set.ts';
import type { PlannedSnapshot } from './core/model.ts';
import { lockKeyOf } from './core/run-target.ts';

export interface DeleteImageSnapshotsEvent {
  readonly runId: string;
  readonly planHash: string;
  readonly imageId: string;
  /** The only snapshots this step may delete: the ids LoadApproved verified, through the state. */
  readonly snapshotIds: readonly string[];
}

/**
 * - `deleted`: this call deleted it (counted in GiB freed);
 * - `already-gone`: it no longer existed (done, but not counted: this run may not have freed it);
 * - `shared`: another existing AMI maps it, so it is kept;
 */
export type SnapshotOutcome = 'deleted' | 'already-gone' | 'shared';

export interface SnapshotResult {
  readonly snapshotId: string;
  readonly sizeGiB: number;
  readonly outcome: SnapshotOutcome;
  /** Why a snapshot was kept, e.g. `shared with ami-…`. */
  readonly detail?: string;
}

export interface DeleteImageSnapshotsResult {
  readonly imageId: string;
  /** `done`: this call processed the snapshots; `nothing-to-do`: the item was already DONE or SKIPPED_IN_USE. */
  readonly outcome: 'done' | 'nothing-to-do';
  /** Snapshots gone now (deleted by this call or already gone). */
  readonly deleted: readonly string[];
  readonly skipped: readonly { readonly snapshotId: string; readonly reason: string }[];
  readonly gibFreed: number;
}

/** `clients`/`region`/`memberClientsFor`: acts in the run's target (its run record says which). */
export interface DeleteImageSnapshotsDeps extends TargetClientsDeps<{ readonly ec2: EC2Client }> {
  readonly ledger: Ledger;
  readonly now: () => Date;
  readonly logger?: HandlerLogger;
}

/** DeleteSnapshots ran for an AMI that was not deregistered (Deregister did not happen). */
export class ImageNotDeregisteredError extends Error {
  override readonly name = 'ImageNotDeregisteredError';
}

export function createDeleteImageSnapshotsHandler(
  deps: DeleteImageSnapshotsDeps,
): (event: DeleteImageSnapshotsEvent) => Promise<DeleteImageSnapshotsResult> {
  const logger = deps.logger ?? silentLogger;
  return classifyFailures('DeleteImageSnapshots', async (event) => {
    const { runId, planHash, imageId, snapshotIds } = requireImageItem(event);
    // The run's lock (and intent partition) is its target's, from its record.
    const run = await recordedRun(deps.ledger, runId);
    const lockKey = lockKeyOf(run, deps);

    const check = await loadItem(
      deps.ledger,
      { runId, planHash, kind: 'IMAGE', id: imageId },
      // APPROVED is accepted here only to fail with a clearer error below.
      { actOn: ['DEREGISTERED', 'APPROVED'], done: ['DONE', 'SKIPPED_IN_USE'] },
    );
    if (!check.act) {
      // A retry after the clear below was lost.
      await deps.ledger.clearDeregistrationIntent(lockKey, runId, imageId);
      logger.info('delete snapshots: nothing to do', { runId, imageId, status: check.item.status });
      return { imageId, outcome: 'nothing-to-do', deleted: [], skipped: [], gibFreed: 0 };
    }
    if (check.item.status !== 'DEREGISTERED') {
      throw new ImageNotDeregisteredError(
        `AMI ${imageId} of run ${runId} is ${check.item.status}, not DEREGISTERED`,
      );
    }
    // Assumed before the attempt is counted: a denied role fails with nothing called.
    const { ec2 } = (await targetClients(deps, run)).clients;
    const moved = await deps.ledger.transition(runId, 'IMAGE', imageId, {
      from: ['DEREGISTERED'],
      to: 'DEREGISTERED',
      planHash,
      countAttempt: true,
    });
    if (!moved)
      throw new ItemStateChangedError(`AMI ${imageId} of run ${runId} changed while deleting snapshots`);

    // The ledger only supplies sizes (for GiB freed): which snapshots to delete comes from the
    // verified state, so an id added to the ledger item after approval is never deleted.
    const sizes = new Map((check.item.snapshots ?? []).map((s) => [s.snapshotId, s.sizeGiB]));
    const unapproved = deletableSnapshotIds(check.item.snapshots ?? []).filter(
      (id) => !snapshotIds.includes(id),
    );
    if (unapproved.length > 0) {
      logger.warn('delete snapshots: ledger lists snapshots that were not approved; left alone', {
        runId,
        imageId,
        snapshots: unapproved.join(','),
      });
    }
    const results: SnapshotResult[] = [];
    // One AMI has a handful of snapshots: in sequence, each re-checked right before its deletion.
    for (const snapshotId of snapshotIds) {
      const snapshot = { snapshotId, sizeGiB: numberOr0(sizes.get(snapshotId)) };
      results.push(
        await deleteOne(ec2, snapshot, imageId, () =>
          assertHoldsLock(deps.ledger, lockKey, runId, deps.now()),
        ),
      );
    }
    const summary = summarise(results);
    const done = await deps.ledger.transition(runId, 'IMAGE', imageId, {
      from: ['DEREGISTERED'],
      to: 'DONE',
      planHash,
      set: {
        snapshotResults: results,
        snapshotsDeleted: results.filter((r) => r.outcome === 'deleted').length,
        gibFreed: summary.gibFreed,
        ...(unapproved.length > 0 ? { unapprovedSnapshotsLeft: unapproved } : {}),
        completedAt: deps.now().toISOString(),
      },
    });
    if (!done)
      throw new ItemStateChangedError(`AMI ${imageId} of run ${runId} changed while deleting snapshots`);
    await deps.ledger.clearDeregistrationIntent(lockKey, runId, imageId);
    logger.info('AMI snapshots processed', {
      runId,
      imageId,
      deleted: summary.deleted.join(','),
      skipped: summary.skipped.map((s) => s.snapshotId).join(','),
      gibFreed: summary.gibFreed,
    });
    return { imageId, outcome: 'done', ...summary };
  });
}

async function deleteOne(
  ec2: EC2Client,
  snapshot: PlannedSnapshot,
  imageId: string,
  fence: () => Promise<void>,
): Promise<SnapshotResult> {
  const { snapshotId, sizeGiB } = snapshot;
  // Right after DeregisterImage, EC2 may still list the AMI just deregistered as a user for a
  // short while: that one does not count, only another AMI does.
  const users = (await snapshotUsedByOtherImage(ec2, snapshotId)).filter((user) => user !== imageId);
  if (users.length > 0) {
    return { snapshotId, sizeGiB, outcome: 'shared', detail: `shared with ${users.join(', ')}` };
  }
  await fence();
  const outcome = await deleteSnapshot(ec2, snapshotId);
  if (outcome === 'in-use') {
    // No other AMI maps it, so the refusal is the deregistration still settling: retry the step
    // (harmless: snapshots already deleted count as done) rather than keep the snapshot forever.
    throw new TransientAwsError(
      'DeleteSnapshot',
      Object.assign(new Error(`${snapshotId} still reported in use after ${imageId} was deregistered`), {
        name: 'InvalidSnapshot.InUse',
      }),
    );
  }
  return { snapshotId, sizeGiB, outcome };
}

const numberOr0 = (value: unknown): number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;

export function summarise(
  results: readonly SnapshotResult[],
): Pick<DeleteImageSnapshotsResult, 'deleted' | 'skipped' | 'gibFreed'> {
  return {
    deleted: results
      .filter((r) => r.outcome === 'deleted' || r.outcome === 'already-gone')
      .map((r) => r.snapshotId),
    skipped: results
      .filter((r) => r.outcome === 'shared')
      .map((r) => ({ snapshotId: r.snapshotId, reason: r.detail ?? r.outcome })),
    gibFreed: results.filter((r) => r.outcome === 'deleted').reduce((sum, r) => sum + r.sizeGiB, 0),
  };
}

export const handler = lazyHandler(() =>
  createDeleteImageSnapshotsHandler({
    ledger: ledgerFromEnv(),
    ...targetClientsFromEnv(),
    now: () => new Date(),
    logger: createLogger('delete-image-snapshots'),
  }),
);
