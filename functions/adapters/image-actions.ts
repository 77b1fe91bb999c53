/**
 * The deletion steps' AWS calls. Each is safe to repeat: a resource already gone is an outcome,
 * not an error. Throttling and transient failures become `TransientAwsError` (the state machine
 * retries those); anything else is rethrown for the Map's Catch to record.
 */
import {
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  type EC2Client,
  paginateDescribeImages,
  paginateDescribeInstances,
  paginateDescribeLaunchTemplateVersions,
} from '@aws-sdk/client-ec2';
import type { ImageReference } from '../core/model.ts';
import { errorCode, InventoryReadError, rethrowClassified, TransientAwsError } from './errors.ts';
import {
  LIVE_INSTANCE_STATES,
  PAGE_SIZE,
  readAllPages,
  toInstance,
  toLaunchTemplateVersion,
} from './inventory.ts';

export type DeregisterOutcome = 'deregistered' | 'already-gone';
export type DeleteSnapshotOutcome = 'deleted' | 'already-gone' | 'in-use';

const IMAGE_GONE_CODES = new Set(['InvalidAMIID.NotFound', 'InvalidAMIID.Unavailable']);

/** A fail-closed read whose throttling is retried by the caller rather than failing the item. */
async function readPages<Page extends { NextToken?: string | undefined }>(
  source: string,
  pages: AsyncIterable<Page>,
): Promise<Page[]> {
  try {
    return await readAllPages(source, pages);
  } catch (err) {
    if (err instanceof InventoryReadError && err.retryable) throw new TransientAwsError(source, err.cause);
    throw err;
  }
}

/** The live instances launched from `imageId` (EC2's `image-id` filter, one page as a rule). */
export async function findInstanceReferences(ec2: EC2Client, imageId: string): Promise<ImageReference[]> {
  const pages = await readPages(
    'DescribeInstances',
    paginateDescribeInstances(
      { client: ec2, pageSize: PAGE_SIZE.describeInstances },
      {
        Filters: [
          { Name: 'image-id', Values: [imageId] },
          { Name: 'instance-state-name', Values: [...LIVE_INSTANCE_STATES] },
        ],
      },
    ),
  );
  const references: ImageReference[] = [];
  for (const page of pages) {
    for (const reservation of page.Reservations ?? []) {
      for (const raw of reservation.Instances ?? []) {
        const instance = toInstance(raw);
        // The filter already matched; checked again so a filter EC2 ignored cannot flag everything.
        if (instance.imageId !== imageId) continue;
        references.push({
          imageId,
          kind: 'instance',
          source: `instance ${instance.instanceId} (${instance.state})`,
        });
      }
    }
  }
  return references;
}

/**
 * Every AMI that the `$Default` or `$Latest` version of some launch template names, with those
 * versions: one full read, all pages (200 versions a page), failing closed.
 *
 * Matched here rather than with EC2's `image-id` filter: the filter is not documented to see
 * through `resolve:ssm:` aliases, and missing one would break the invariant this check exists for.
 */
export async function readLaunchTemplateReferences(ec2: EC2Client): Promise<Map<string, ImageReference[]>> {
  const pages = await readPages(
    'DescribeLaunchTemplateVersions',
    paginateDescribeLaunchTemplateVersions(
      { client: ec2, pageSize: PAGE_SIZE.describeLaunchTemplateVersions },
      { Versions: ['$Default', '$Latest'], ResolveAlias: true },
    ),
  );
  const byImage = new Map<string, ImageReference[]>();
  const seen = new Set<string>();
  for (const page of pages) {
    for (const raw of page.LaunchTemplateVersions ?? []) {
      const version = toLaunchTemplateVersion(raw);
      if (version.imageId === undefined) continue;
      const key = `${version.launchTemplateId}#${version.versionNumber}`;
      if (seen.has(key)) continue; // a version that is both $Default and $Latest comes back once or twice
      seen.add(key);
      const alias = raw.DefaultVersion === true ? '$Default' : '$Latest';
      const references = byImage.get(version.imageId) ?? [];
      references.push({
        imageId: version.imageId,
        kind: 'launch-template',
        source: `launch-template ${version.launchTemplateId} v${version.versionNumber} (${alias})`,
      });
      byImage.set(version.imageId, references);
    }
  }
  return byImage;
}

/** Deregisters an image; an image already gone is a success, so a retry is harmless. */
export async function deregisterImage(ec2: EC2Client, imageId: string): Promise<DeregisterOutcome> {
  try {
    await ec2.send(new DeregisterImageCommand({ ImageId: imageId }));
    return 'deregistered';
  } catch (err) {
    if (IMAGE_GONE_CODES.has(errorCode(err))) return 'already-gone';
    return rethrowClassified('DeregisterImage', err);
  }
}

/**
 * Ids of owned images (disabled and deprecated included) whose block device mappings still use
 * `snapshotId`. Callers skip the snapshot when this is not empty.
 */
export async function snapshotUsedByOtherImage(ec2: EC2Client, snapshotId: string): Promise<string[]> {
  const pages = await readPages(
    'DescribeImages',
    paginateDescribeImages(
      { client: ec2, pageSize: PAGE_SIZE.describeImages },
      {
        Owners: ['self'],
        IncludeDisabled: true,
        IncludeDeprecated: true,
        Filters: [{ Name: 'block-device-mapping.snapshot-id', Values: [snapshotId] }],
      },
    ),
  );
  return pages.flatMap((page) =>
    (page.Images ?? []).map((image) => {
      if (image.ImageId === undefined) {
        throw new InventoryReadError('DescribeImages', 'response item lacks ImageId', 'MalformedResponse');
      }
      return image.ImageId;
    }),
  );
}

/** Deletes a snapshot; gone is a success, in use (by an image or a volume) is reported, not thrown. */
export async function deleteSnapshot(ec2: EC2Client, snapshotId: string): Promise<DeleteSnapshotOutcome> {
  try {
    await ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }));
    return 'deleted';
  } catch (err) {
    const code = errorCode(err);
    if (code === 'InvalidSnapshot.NotFound') return 'already-gone';
    if (code === 'InvalidSnapshot.InUse') return 'in-use';
    return rethrowClassified('DeleteSnapshot', err);
  }
}

/**
 * Whether an image with this id still exists (any owner, any state but gone), for the orphan
 * re-check. A filter rather than `ImageIds`, because `ImageIds` throws for an unknown id.
 */
export async function imageExists(ec2: EC2Client, imageId: string): Promise<boolean> {
  const pages = await readPages(
    'DescribeImages',
    paginateDescribeImages(
      { client: ec2, pageSize: PAGE_SIZE.describeImages },
      {
        IncludeDisabled: true,
        IncludeDeprecated: true,
        Filters: [{ Name: 'image-id', Values: [imageId] }],
      },
    ),
  );
  return pages.some((page) => (page.Images ?? []).some((image) => image.ImageId === imageId));
}
