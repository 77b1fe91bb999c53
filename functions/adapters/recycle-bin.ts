/**
 * The EC2 Recycle Bin calls: the tag that makes a deletion retainable (one CreateTags per AMI,
 * covering the AMI and its snapshots), what the bin holds, and the two restores. Reads go
 * through the SDK paginators and fail closed, like every read.
 */
import {
  CreateTagsCommand,
  type EC2Client,
  paginateDescribeImages,
  paginateDescribeSnapshots,
  paginateListImagesInRecycleBin,
  paginateListSnapshotsInRecycleBin,
  RestoreImageFromRecycleBinCommand,
  RestoreSnapshotFromRecycleBinCommand,
} from '@aws-sdk/client-ec2';
import { retentionTags } from '../core/recycle-bin.ts';
import type { BinEntry } from '../core/restore.ts';
import {
  errorCode,
  isRetryableAwsError,
  rethrowClassified,
  safeErrorMessage,
  TransientAwsError,
} from './errors.ts';
import { readAllPages } from './inventory.ts';

/** ListImagesInRecycleBin takes up to 20 ids a call; the same batch is used for snapshots. */
const BIN_IDS_PER_CALL = 20;
/** Values per describe filter (EC2 accepts 200). */
const FILTER_VALUES_PER_CALL = 200;

/**
 * Tagging for the Recycle Bin failed: the resources are NOT deleted (fail closed). Not retried
 * by the state machine (only TransientAwsError is); the item is recorded FAILED.
 */
export class RetentionTagError extends Error {
  override readonly name = 'RetentionTagError';
}

/**
 * Tags `imageId` (if given) and `snapshotIds` with the retention tags in ONE CreateTags call.
 * An AMI already gone (a retry after DeregisterImage answered but the ledger write was lost)
 * is tagged no more: its snapshots are then tagged alone, in a second call.
 */
export async function tagForRecycleBin(
  ec2: EC2Client,
  runId: string,
  resources: { readonly imageId?: string; readonly snapshotIds: readonly string[] },
): Promise<void> {
  const ids = [...(resources.imageId === undefined ? [] : [resources.imageId]), ...resources.snapshotIds];
  if (ids.length === 0) return;
  try {
    await createTags(ec2, runId, ids);
  } catch (err) {
    const code = errorCode(err);
    if (
      resources.imageId !== undefined &&
      code.startsWith('InvalidAMIID.') &&
      resources.snapshotIds.length > 0
    ) {
      await createTags(ec2, runId, resources.snapshotIds).catch((again: unknown) => failTagging(ids, again));
      return;
    }
    if (resources.imageId !== undefined && code.startsWith('InvalidAMIID.')) return; // nothing left to tag
    failTagging(ids, err);
  }
}

async function createTags(ec2: EC2Client, runId: string, ids: readonly string[]): Promise<void> {
  await ec2.send(
    new CreateTagsCommand({ Resources: [...ids], Tags: retentionTags(runId).map((t) => ({ ...t })) }),
  );
}

function failTagging(ids: readonly string[], err: unknown): never {
  if (isRetryableAwsError(err)) throw new TransientAwsError('CreateTags', err);
  throw new RetentionTagError(
    `could not tag ${ids.join(', ')} for the Recycle Bin (${errorCode(err)}: ${safeErrorMessage(err)}); not deleted`,
    { cause: err },
  );
}

function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function binEntry(source: string, exit: Date | undefined): BinEntry {
  if (!(exit instanceof Date) || Number.isNaN(exit.getTime())) {
    throw new TransientAwsError(source, new Error('response item lacks RecycleBinExitTime'));
  }
  return { exitTime: exit.toISOString() };
}

/** The AMIs among `imageIds` that are in the Recycle Bin, with when they leave it. */
export function imagesInRecycleBin(
  ec2: EC2Client,
  imageIds: readonly string[],
): Promise<Map<string, BinEntry>> {
  return binEntries('ListImagesInRecycleBin', imageIds, async (ids) =>
    (
      await readAllPages(
        'ListImagesInRecycleBin',
        paginateListImagesInRecycleBin({ client: ec2 }, { ImageIds: ids }),
      )
    ).flatMap((page) => (page.Images ?? []).map((i) => [i.ImageId, i.RecycleBinExitTime] as const)),
  );
}

/** The snapshots among `snapshotIds` that are in the Recycle Bin, with when they leave it. */
export function snapshotsInRecycleBin(
  ec2: EC2Client,
  snapshotIds: readonly string[],
): Promise<Map<string, BinEntry>> {
  return binEntries('ListSnapshotsInRecycleBin', snapshotIds, async (ids) =>
    (
      await readAllPages(
        'ListSnapshotsInRecycleBin',
        paginateListSnapshotsInRecycleBin({ client: ec2 }, { SnapshotIds: ids }),
      )
    ).flatMap((page) => (page.Snapshots ?? []).map((s) => [s.SnapshotId, s.RecycleBinExitTime] as const)),
  );
}

/** Asks in batches of ids; keeps only the ids asked (an answer about another id is ignored). */
async function binEntries(
  source: string,
  allIds: readonly string[],
  list: (ids: string[]) => Promise<(readonly [string | undefined, Date | undefined])[]>,
): Promise<Map<string, BinEntry>> {
  const found = new Map<string, BinEntry>();
  for (const ids of batches(allIds, BIN_IDS_PER_CALL)) {
    for (const [id, exit] of await list(ids)) {
      if (id !== undefined && ids.includes(id)) found.set(id, binEntry(source, exit));
    }
  }
  return found;
}

/** Which of `imageIds` exist in the account (filters, not ImageIds: those throw for unknown ids). */
export async function existingImages(ec2: EC2Client, imageIds: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const ids of batches(imageIds, FILTER_VALUES_PER_CALL)) {
    const pages = await readAllPages(
      'DescribeImages',
      paginateDescribeImages(
        { client: ec2, pageSize: 1000 },
        {
          Owners: ['self'],
          IncludeDisabled: true,
          IncludeDeprecated: true,
          Filters: [{ Name: 'image-id', Values: ids }],
        },
      ),
    );
    for (const image of pages.flatMap((page) => page.Images ?? []))
      if (image.ImageId) found.add(image.ImageId);
  }
  return found;
}

export async function existingSnapshots(
  ec2: EC2Client,
  snapshotIds: readonly string[],
): Promise<Set<string>> {
  const found = new Set<string>();
  for (const ids of batches(snapshotIds, FILTER_VALUES_PER_CALL)) {
    const pages = await readAllPages(
      'DescribeSnapshots',
      paginateDescribeSnapshots(
        { client: ec2, pageSize: 1000 },
        { OwnerIds: ['self'], Filters: [{ Name: 'snapshot-id', Values: ids }] },
      ),
    );
    for (const snapshot of pages.flatMap((page) => page.Snapshots ?? [])) {
      if (snapshot.SnapshotId) found.add(snapshot.SnapshotId);
    }
  }
  return found;
}

export async function restoreSnapshotFromRecycleBin(ec2: EC2Client, snapshotId: string): Promise<void> {
  try {
    await ec2.send(new RestoreSnapshotFromRecycleBinCommand({ SnapshotId: snapshotId }));
  } catch (err) {
    rethrowClassified('RestoreSnapshotFromRecycleBin', err);
  }
}

export async function restoreImageFromRecycleBin(ec2: EC2Client, imageId: string): Promise<void> {
  try {
    await ec2.send(new RestoreImageFromRecycleBinCommand({ ImageId: imageId }));
  } catch (err) {
    rethrowClassified('RestoreImageFromRecycleBin', err);
  }
}
