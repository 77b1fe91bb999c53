/**
 * DeleteOrphan (one Map iteration): deletes one approved orphan snapshot after re-checking right
 * now that it is still an orphan: the AMI its description names still does not exist, and no
 * AMI maps it. Otherwise it is kept and recorded SKIPPED_IN_USE. Safe to repeat.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import { deleteSnapshot, imageExists, snapshotUsedByOtherImage } from './adapters/image-actions.ts';
import type { Ledger } from './adapters/ledger/index.ts';
import { tagForRecycleBin } from './adapters/recycle-bin.ts';
import { lazyHandler, ledgerFromEnv, targetClientsFromEnv } from './commons/deps.ts';
import { recycleBinFromEnv } from './commons/env.ts';
import { classifyFailures, ItemStateChangedError, NotApprovedError } from './commons/errors.ts';
import { AMI_ID, PLAN_HASH, RUN_ID, requireRecord, requireString, SNAPSHOT_ID } from './commons/events.ts';
import { loadItem } from './commons/items.ts';
import { assertHoldsLock } from './commons/lock-fence.ts';
import { createLogger, type HandlerLogger, silentLogger } from './commons/logger.ts';
import { recordedRun } from './commons/recorded-run.ts';
import { type TargetClientsDeps, targetClients } from './commons/target-clients.ts';
import { type RecycleBinRetention, retentionRecord } from './core/recycle-bin.ts';

export interface DeleteOrphanSnapshotEvent {
  readonly runId: string;
  readonly planHash: string;
  readonly snapshotId: string;
}

export type DeleteOrphanOutcome =
  | 'deleted'
  /** It no longer existed: done, but not counted in GiB freed. */
  | 'already-gone'
  /** No longer an orphan (its AMI exists again, or an AMI maps it): kept. */
  | 'skipped-in-use'
  /** A previous attempt already handled it. */
  | 'already-done';

export interface DeleteOrphanSnapshotResult {
  readonly snapshotId: string;
  readonly outcome: DeleteOrphanOutcome;
}

/** `clients`/`region`/`memberClientsFor`: acts in the run's target (its run record says which). */
export interface DeleteOrphanSnapshotDeps extends TargetClientsDeps<{ readonly ec2: EC2Client }> {
  readonly ledger: Ledger;
  readonly now: () => Date;
  readonly logger?: HandlerLogger;
  /** Recycle Bin retention on: the snapshot is tagged right before DeleteSnapshot; a failed tag deletes nothing. */
  readonly recycleBin?: RecycleBinRetention;
}

export function createDeleteOrphanSnapshotHandler(
  deps: DeleteOrphanSnapshotDeps,
): (event: DeleteOrphanSnapshotEvent) => Promise<DeleteOrphanSnapshotResult> {
  const logger = deps.logger ?? silentLogger;
  return classifyFailures('DeleteOrphanSnapshot', async (event) => {
    const record = requireRecord(event, 'event');
    const runId = requireString(record, 'runId', RUN_ID);
    const planHash = requireString(record, 'planHash', PLAN_HASH);
    const snapshotId = requireString(record, 'snapshotId', SNAPSHOT_ID);

    const check = await loadItem(
      deps.ledger,
      { runId, planHash, kind: 'SNAPSHOT', id: snapshotId },
      { actOn: ['APPROVED'], done: ['DONE', 'SKIPPED_IN_USE'] },
    );
    if (!check.act) {
      logger.info('orphan snapshot: already handled', { runId, snapshotId, status: check.item.status });
      return { snapshotId, outcome: 'already-done' };
    }
    const sourceImageId = check.item.sourceImageId;
    if (typeof sourceImageId !== 'string' || !AMI_ID.test(sourceImageId)) {
      // Without the AMI it was made for, "still an orphan" cannot be re-checked: keep it.
      throw new NotApprovedError(`orphan snapshot ${snapshotId} of run ${runId} records no source AMI`);
    }
    const transition = async (to: 'APPROVED' | 'DONE' | 'SKIPPED_IN_USE', set?: Record<string, unknown>) => {
      const ok = await deps.ledger.transition(runId, 'SNAPSHOT', snapshotId, {
        from: ['APPROVED'],
        to,
        planHash,
        ...(set === undefined ? { countAttempt: true } : { set }),
      });
      if (!ok)
        throw new ItemStateChangedError(`snapshot ${snapshotId} of run ${runId} changed while being deleted`);
    };
    // The run's account and lock from its record; the role is assumed before anything is called.
    const run = await recordedRun(deps.ledger, runId);
    const place = await targetClients(deps, run);
    const { ec2 } = place.clients;
    await transition('APPROVED'); // counts the attempt before touching AWS

    let keptBecause: string | undefined;
    if (await imageExists(ec2, sourceImageId)) {
      keptBecause = `its AMI ${sourceImageId} exists`;
    } else {
      const users = await snapshotUsedByOtherImage(ec2, snapshotId);
      if (users.length > 0) keptBecause = `used by ${users.join(', ')}`;
    }
    let outcome: DeleteOrphanOutcome;
    if (keptBecause === undefined) {
      if (deps.recycleBin) await tagForRecycleBin(ec2, runId, { snapshotIds: [snapshotId] });
      await assertHoldsLock(deps.ledger, place.target.key, runId, deps.now());
      const deleted = await deleteSnapshot(ec2, snapshotId);
      if (deleted === 'in-use') keptBecause = 'DeleteSnapshot refused it as in use';
      outcome = deleted === 'in-use' ? 'skipped-in-use' : deleted;
    } else {
      outcome = 'skipped-in-use';
    }

    const completedAt = deps.now().toISOString();
    if (keptBecause !== undefined) {
      await transition('SKIPPED_IN_USE', {
        // `detail` keeps the snapshot's description, recorded with the plan.
        skipReason: `no longer an orphan: ${keptBecause}`,
        completedAt,
      });
      logger.warn('orphan snapshot kept', { runId, snapshotId, reason: keptBecause });
    } else {
      await transition('DONE', {
        snapshotOutcome: outcome,
        snapshotsDeleted: outcome === 'deleted' ? 1 : 0,
        gibFreed: outcome === 'deleted' ? check.item.sizeGiB : 0,
        completedAt,
        ...(deps.recycleBin && outcome === 'deleted'
          ? retentionRecord(new Date(completedAt), deps.recycleBin, 'SNAPSHOT')
          : {}),
      });
      logger.info('orphan snapshot deleted', { runId, snapshotId, outcome });
    }
    return { snapshotId, outcome };
  });
}

export const handler = lazyHandler(() =>
  createDeleteOrphanSnapshotHandler({
    ledger: ledgerFromEnv(),
    ...targetClientsFromEnv(),
    now: () => new Date(),
    logger: createLogger('delete-orphan-snapshot'),
    ...recycleBinFromEnv(),
  }),
);
