import {
  CreateTagsCommand,
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  EC2Client,
  ListImagesInRecycleBinCommand,
  ListSnapshotsInRecycleBinCommand,
  RestoreImageFromRecycleBinCommand,
  RestoreSnapshotFromRecycleBinCommand,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { SimulatedAccount } from '../../cli/simulated-account/account.ts';

const DAY = 24 * 3600 * 1000;

function setup() {
  let now = new Date('2026-05-01T00:00:00.000Z');
  const account = new SimulatedAccount({ clock: () => now });
  const ec2 = account.attach(
    new EC2Client({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKID', secretAccessKey: 's' },
      maxAttempts: 1,
    }),
  );
  const tag = { key: 'retain', value: 'yes' };
  account.recycleBin.addRule({ resourceType: 'EC2_IMAGE', tag, retentionDays: 2 });
  account.recycleBin.addRule({ resourceType: 'EBS_SNAPSHOT', tag, retentionDays: 5 });
  const image = account.addImage({ name: 'a', creationDate: now, volumes: [8] });
  const snapshotId = image.blockDeviceMappings[0]?.snapshotId as string;
  return {
    account,
    ec2,
    image,
    snapshotId,
    advance: (days: number) => (now = new Date(now.getTime() + days * DAY)),
  };
}

const tagged = (ec2: EC2Client, ids: string[]) =>
  ec2.send(new CreateTagsCommand({ Resources: ids, Tags: [{ Key: 'retain', Value: 'yes' }] }));

describe('simulated Recycle Bin', () => {
  it('retains tagged resources on delete, lists them, and restores the snapshot then the AMI', async () => {
    // Prepare
    const { account, ec2, image, snapshotId } = setup();
    await tagged(ec2, [image.imageId, snapshotId]);

    // Act
    await ec2.send(new DeregisterImageCommand({ ImageId: image.imageId }));
    await ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }));
    const images = await ec2.send(new ListImagesInRecycleBinCommand({ ImageIds: [image.imageId] }));
    const snapshots = await ec2.send(new ListSnapshotsInRecycleBinCommand({}));

    // Assess
    expect(images.Images?.map((i) => [i.ImageId, i.RecycleBinExitTime?.toISOString()])).toEqual([
      [image.imageId, '2026-05-03T00:00:00.000Z'],
    ]);
    expect(snapshots.Snapshots?.map((s) => s.SnapshotId)).toEqual([snapshotId]);
    // The AMI needs its snapshot back first.
    await expect(
      ec2.send(new RestoreImageFromRecycleBinCommand({ ImageId: image.imageId })),
    ).rejects.toMatchObject({
      name: 'IncorrectState',
    });
    await ec2.send(new RestoreSnapshotFromRecycleBinCommand({ SnapshotId: snapshotId }));
    await ec2.send(new RestoreImageFromRecycleBinCommand({ ImageId: image.imageId }));
    expect(account.images.get(image.imageId)?.tags).toEqual({ retain: 'yes' });
    expect(account.imagesUsingSnapshot(snapshotId)).toEqual([image.imageId]);
    expect((await ec2.send(new ListImagesInRecycleBinCommand({}))).Images).toEqual([]);
  });

  it('retains nothing untagged, and forgets what passed its retention (the clock drives it)', async () => {
    // Prepare
    const { ec2, image, snapshotId, advance } = setup();
    await tagged(ec2, [snapshotId]);
    await ec2.send(new DeregisterImageCommand({ ImageId: image.imageId }));
    await ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }));

    // Act / Assess
    expect((await ec2.send(new ListImagesInRecycleBinCommand({}))).Images).toEqual([]);
    advance(4.9);
    expect((await ec2.send(new ListSnapshotsInRecycleBinCommand({}))).Snapshots).toHaveLength(1);
    advance(0.2);
    expect((await ec2.send(new ListSnapshotsInRecycleBinCommand({}))).Snapshots).toEqual([]);
    await expect(
      ec2.send(new RestoreSnapshotFromRecycleBinCommand({ SnapshotId: snapshotId })),
    ).rejects.toMatchObject({
      name: 'InvalidSnapshot.NotFound',
    });
  });

  it('fails a whole CreateTags when one resource does not exist', async () => {
    // Prepare
    const { account, ec2, image } = setup();

    // Act
    const attempt = tagged(ec2, [image.imageId, 'snap-0123456789abcdef0']);

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'InvalidSnapshot.NotFound' });
    expect(account.images.get(image.imageId)?.tags).toEqual({});
  });
});
