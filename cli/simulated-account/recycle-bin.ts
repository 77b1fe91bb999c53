/**
 * The simulated EC2 Recycle Bin: tag-level retention rules, deregistered AMIs and deleted
 * snapshots that a rule matches kept for its retention, ListImagesInRecycleBin /
 * ListSnapshotsInRecycleBin, the two restores, CreateTags (what makes a resource match), and
 * expiry driven by the account's clock.
 *
 * Modelled on the EC2 API reference; what it does not document is assumed and marked so:
 * - RestoreImageFromRecycleBin while a snapshot the AMI maps is still in the bin, or gone,
 *   answers `IncorrectState` (AWS says the snapshots must be restored first; the code is ours).
 * - An unknown id given to a list call is left out of the answer, not an error.
 */
import type {
  CreateTagsCommandInput,
  ListImagesInRecycleBinCommandInput,
  ListImagesInRecycleBinResult,
  ListSnapshotsInRecycleBinCommandInput,
  ListSnapshotsInRecycleBinResult,
  RestoreImageFromRecycleBinCommandInput,
  RestoreSnapshotFromRecycleBinCommandInput,
} from '@aws-sdk/client-ec2';
import type { ServiceHandlers, SimulatedAccount } from './account.ts';
import { handler } from './account.ts';
import { SimulatedAwsError } from './errors.ts';
import { decodeToken, encodeToken, pageSize } from './pagination.ts';
import type { SimImage, SimSnapshot } from './state.ts';
import { compareKeys } from './store.ts';

export type RecycleBinResourceType = 'EC2_IMAGE' | 'EBS_SNAPSHOT';

export interface RecycleBinRule {
  readonly resourceType: RecycleBinResourceType;
  /** Resources carrying this tag key and value are retained (AWS::Rbin::Rule ResourceTags). */
  readonly tag: { readonly key: string; readonly value: string };
  readonly retentionDays: number;
}

interface Binned<T> {
  readonly resource: T;
  readonly enterTime: Date;
  readonly exitTime: Date;
}

const DAY_MS = 24 * 3600 * 1000;

export class RecycleBin {
  readonly rules: RecycleBinRule[] = [];
  readonly #images = new Map<string, Binned<SimImage>>();
  readonly #snapshots = new Map<string, Binned<SimSnapshot>>();

  constructor(private readonly now: () => Date) {}

  addRule(rule: RecycleBinRule): void {
    if (!Number.isInteger(rule.retentionDays) || rule.retentionDays < 1 || rule.retentionDays > 365)
      throw new Error(`retention must be 1 to 365 days, got ${rule.retentionDays}`);
    this.rules.push(rule);
  }

  /** Called by DeregisterImage: true when a rule retained the image. */
  retainImage(image: SimImage): boolean {
    return this.#retain('EC2_IMAGE', image.imageId, image, image.tags, this.#images);
  }

  /** Called by DeleteSnapshot: true when a rule retained the snapshot. */
  retainSnapshot(snapshot: SimSnapshot): boolean {
    return this.#retain('EBS_SNAPSHOT', snapshot.snapshotId, snapshot, snapshot.tags, this.#snapshots);
  }

  #retain<T>(
    type: RecycleBinResourceType,
    id: string,
    resource: T,
    tags: Readonly<Record<string, string>>,
    into: Map<string, Binned<T>>,
  ): boolean {
    // The longest matching rule wins, as AWS documents for overlapping rules.
    const days = Math.max(
      0,
      ...this.rules
        .filter((rule) => rule.resourceType === type && tags[rule.tag.key] === rule.tag.value)
        .map((rule) => rule.retentionDays),
    );
    if (days === 0) return false;
    const enterTime = this.now();
    into.set(id, { resource, enterTime, exitTime: new Date(enterTime.getTime() + days * DAY_MS) });
    return true;
  }

  /** What is in the bin now (expired entries are gone for good). */
  images(): ReadonlyMap<string, Binned<SimImage>> {
    return this.#expire(this.#images);
  }

  snapshots(): ReadonlyMap<string, Binned<SimSnapshot>> {
    return this.#expire(this.#snapshots);
  }

  takeImage(imageId: string): SimImage | undefined {
    const entry = this.images().get(imageId);
    this.#images.delete(imageId);
    return entry?.resource;
  }

  takeSnapshot(snapshotId: string): SimSnapshot | undefined {
    const entry = this.snapshots().get(snapshotId);
    this.#snapshots.delete(snapshotId);
    return entry?.resource;
  }

  #expire<T>(entries: Map<string, Binned<T>>): Map<string, Binned<T>> {
    const now = this.now().getTime();
    for (const [id, entry] of entries) if (entry.exitTime.getTime() <= now) entries.delete(id);
    return entries;
  }
}

function listed<T>(
  entries: ReadonlyMap<string, Binned<T>>,
  ids: readonly string[] | undefined,
  input: { MaxResults?: number | undefined; NextToken?: string | undefined },
  scope: string,
  min: number,
): { page: [string, Binned<T>][]; nextToken?: string } {
  const wanted = ids === undefined || ids.length === 0 ? undefined : new Set(ids);
  const sorted = [...entries].filter(([id]) => wanted?.has(id) ?? true).sort(([a], [b]) => compareKeys(a, b));
  const limit = pageSize(input.MaxResults, {
    fallback: 1000,
    min,
    max: 1000,
    errorCode: 'InvalidParameterValue',
    parameter: 'MaxResults',
  });
  const after = decodeToken(input.NextToken, scope, 'InvalidPaginationToken');
  const rest = after === undefined ? sorted : sorted.filter(([id]) => compareKeys(id, after) > 0);
  const page = rest.slice(0, limit);
  const last = page.at(-1);
  return rest.length > limit && last ? { page, nextToken: encodeToken(scope, last[0]) } : { page };
}

export function createRecycleBinHandlers(account: SimulatedAccount): ServiceHandlers {
  const bin = account.recycleBin;
  return {
    CreateTags: handler((input: CreateTagsCommandInput): object => {
      const resources = input.Resources ?? [];
      // All or nothing, as EC2 does: one unknown id fails the whole call.
      const targets = resources.map((id) => {
        const target = id.startsWith('ami-') ? account.images.get(id) : account.snapshots.get(id);
        if (target === undefined) {
          throw id.startsWith('ami-')
            ? new SimulatedAwsError('InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`)
            : new SimulatedAwsError('InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`);
        }
        return target;
      });
      for (const target of targets) {
        for (const tag of input.Tags ?? []) if (tag.Key !== undefined) target.tags[tag.Key] = tag.Value ?? '';
      }
      return {};
    }),

    ListImagesInRecycleBin: handler(
      (input: ListImagesInRecycleBinCommandInput): ListImagesInRecycleBinResult => {
        if ((input.ImageIds?.length ?? 0) > 20)
          throw new SimulatedAwsError('InvalidParameterValue', 'You can specify up to 20 image IDs.');
        const { page, nextToken } = listed(bin.images(), input.ImageIds, input, 'ListImagesInRecycleBin', 1);
        return {
          Images: page.map(([id, entry]) => ({
            ImageId: id,
            Name: entry.resource.name,
            ...(entry.resource.description === '' ? {} : { Description: entry.resource.description }),
            RecycleBinEnterTime: entry.enterTime,
            RecycleBinExitTime: entry.exitTime,
          })),
          ...(nextToken === undefined ? {} : { NextToken: nextToken }),
        };
      },
    ),

    ListSnapshotsInRecycleBin: handler(
      (input: ListSnapshotsInRecycleBinCommandInput): ListSnapshotsInRecycleBinResult => {
        const { page, nextToken } = listed(
          bin.snapshots(),
          input.SnapshotIds,
          input,
          'ListSnapshotsInRecycleBin',
          5,
        );
        return {
          Snapshots: page.map(([id, entry]) => ({
            SnapshotId: id,
            Description: entry.resource.description,
            VolumeId: entry.resource.volumeId,
            RecycleBinEnterTime: entry.enterTime,
            RecycleBinExitTime: entry.exitTime,
          })),
          ...(nextToken === undefined ? {} : { NextToken: nextToken }),
        };
      },
    ),

    RestoreSnapshotFromRecycleBin: handler((input: RestoreSnapshotFromRecycleBinCommandInput): object => {
      const snapshotId = input.SnapshotId ?? '';
      const snapshot = bin.takeSnapshot(snapshotId);
      if (snapshot === undefined) {
        throw new SimulatedAwsError(
          'InvalidSnapshot.NotFound',
          `The snapshot '${snapshotId}' does not exist.`,
        );
      }
      account.restoreSnapshot(snapshot);
      return {
        SnapshotId: snapshot.snapshotId,
        State: 'completed',
        VolumeId: snapshot.volumeId,
        VolumeSize: snapshot.volumeSizeGiB,
      };
    }),

    RestoreImageFromRecycleBin: handler((input: RestoreImageFromRecycleBinCommandInput): object => {
      const imageId = input.ImageId ?? '';
      const entry = bin.images().get(imageId);
      if (entry === undefined) {
        throw new SimulatedAwsError('InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
      }
      const missing = entry.resource.blockDeviceMappings
        .map((device) => device.snapshotId)
        .filter((id) => !account.snapshots.has(id));
      if (missing.length > 0) {
        throw new SimulatedAwsError(
          'IncorrectState',
          `Image ${imageId} cannot be restored: restore its snapshots first (${missing.join(', ')})`,
        );
      }
      account.restoreImage(bin.takeImage(imageId) as SimImage);
      return { Return: true };
    }),
  };
}
