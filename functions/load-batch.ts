/**
 * LoadBatch: the first state of a DeleteBatch child. Reads its batch of the verified deletion set
 * from the run's workspace (the key is derived from the run id and the batch index, never taken
 * from the input) and hands it to the deletion Maps only if its ids hash to the batch hash the
 * parent passed through the state: LoadApproved computed that hash from the set it verified
 * against the approved plan hash, so a batch changed in the workspace after approval deletes
 * nothing (invariant 1).
 */
import type { RunWorkspace } from './adapters/workspace.ts';
import { runKey } from './adapters/workspace.ts';
import { lazyHandler, regionFromEnv, workspaceFromEnv } from './commons/deps.ts';
import { classifyFailures, InvalidEventError } from './commons/errors.ts';
import {
  AMI_ID,
  isRecord,
  PLAN_HASH,
  RUN_ID,
  requireRecord,
  requireString,
  SNAPSHOT_ID,
} from './commons/events.ts';
import { createLogger, type HandlerLogger, silentLogger } from './commons/logger.ts';
import { batchDocumentName, type DeletionBatch, hashDeletionBatch } from './core/deletion-batches.ts';
import { isRegion } from './core/target.ts';

export interface LoadBatchEvent {
  readonly runId: string;
  readonly planHash: string;
  /** The descriptor LoadApproved returned for this batch. */
  readonly batch: { readonly index: number; readonly hash: string };
}

export type LoadBatchResult = DeletionBatch;

export interface LoadBatchDeps {
  readonly workspace: RunWorkspace;
  /** The hub's region: the hash's region for a batch document that names none (written before targets). */
  readonly region: string;
  readonly logger?: HandlerLogger;
}

/** The workspace's batch is not the one LoadApproved verified. Nothing of it was deleted. */
export class BatchTamperedError extends Error {
  override readonly name = 'BatchTamperedError';
}

export function createLoadBatchHandler(
  deps: LoadBatchDeps,
): (event: LoadBatchEvent) => Promise<LoadBatchResult> {
  const logger = deps.logger ?? silentLogger;
  return classifyFailures('LoadBatch', async (event) => {
    const record = requireRecord(event, 'event');
    const runId = requireString(record, 'runId', RUN_ID);
    const planHash = requireString(record, 'planHash', PLAN_HASH);
    const descriptor = requireRecord(record.batch, 'batch');
    const index = descriptor.index;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 1_000_000)
      throw new InvalidEventError('batch.index must be a whole number >= 0');
    const expected = requireString(descriptor, 'hash', PLAN_HASH);

    const stored = await deps.workspace.getJson<unknown>(runKey(runId, batchDocumentName(index)));
    const batch = wellFormed(stored, runId, index);
    // The target's region, as LoadApproved wrote it; a forged one changes the hash and is refused.
    const region = batchRegion(stored, runId, index) ?? deps.region;
    const hash = hashDeletionBatch(region, batch);
    if (hash !== expected) {
      throw new BatchTamperedError(
        `run ${runId} batch ${index}: its ids hash to ${hash}, not the verified ${expected}; nothing of it is deleted`,
      );
    }
    logger.info('deletion batch loaded', {
      runId,
      planHash,
      batch: index,
      images: batch.images.length,
      orphanSnapshots: batch.orphanSnapshots.length,
    });
    return batch;
  });
}

function batchRegion(value: unknown, runId: string, index: number): string | undefined {
  const region = isRecord(value) ? value.region : undefined;
  if (region === undefined) return undefined;
  if (!isRegion(region)) throw new BatchTamperedError(`run ${runId} batch ${index}: not a region code`);
  return region;
}

/** Only EC2 ids in the expected shape: anything else refuses the batch before any hash is trusted. */
function wellFormed(value: unknown, runId: string, index: number): DeletionBatch {
  const refuse = (why: string) => new BatchTamperedError(`run ${runId} batch ${index}: ${why}`);
  if (!isRecord(value) || !Array.isArray(value.images) || !Array.isArray(value.orphanSnapshots))
    throw refuse('not a deletion batch');
  const images = value.images.map((image) => {
    if (!isRecord(image) || typeof image.imageId !== 'string' || !AMI_ID.test(image.imageId))
      throw refuse('an AMI entry carries no EC2 image id');
    const snapshotIds = image.snapshotIds;
    if (
      !Array.isArray(snapshotIds) ||
      !snapshotIds.every((id) => typeof id === 'string' && SNAPSHOT_ID.test(id))
    )
      throw refuse(`AMI ${image.imageId} carries an id that is not an EC2 snapshot id`);
    return { imageId: image.imageId, snapshotIds: snapshotIds as string[] };
  });
  const orphanSnapshots = value.orphanSnapshots.map((orphan) => {
    if (!isRecord(orphan) || typeof orphan.snapshotId !== 'string' || !SNAPSHOT_ID.test(orphan.snapshotId))
      throw refuse('an orphan entry is not an EC2 snapshot id');
    return { snapshotId: orphan.snapshotId };
  });
  return { images, orphanSnapshots };
}

export const handler = lazyHandler(() =>
  createLoadBatchHandler({
    workspace: workspaceFromEnv(),
    region: regionFromEnv(),
    logger: createLogger('load-batch'),
  }),
);
