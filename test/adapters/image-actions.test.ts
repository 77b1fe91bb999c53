import {
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplateVersionsCommand,
  EC2Client,
  EC2ServiceException,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { InventoryReadError, TransientAwsError } from '../../functions/adapters/errors.ts';
import {
  deleteSnapshot,
  deregisterImage,
  findInstanceReferences,
  imageExists,
  readLaunchTemplateReferences,
  snapshotUsedByOtherImage,
} from '../../functions/adapters/image-actions.ts';

const ec2Mock = mockClient(EC2Client);
const ec2 = new EC2Client({ region: 'eu-west-1' });

const awsError = (name: string, httpStatusCode = 400) =>
  new EC2ServiceException({
    name,
    message: `${name} happened`,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode },
  });

afterEach(() => {
  ec2Mock.reset();
});

/** What Deregister's own reads answer for one AMI: its live instances, then its template versions. */
const readsFor = async (imageId: string) => {
  const [instances, templates] = await Promise.all([
    findInstanceReferences(ec2, imageId),
    readLaunchTemplateReferences(ec2),
  ]);
  return [...instances, ...(templates.get(imageId) ?? [])];
};

describe('findInstanceReferences and readLaunchTemplateReferences', () => {
  it('finds live instances and $Default/$Latest template versions on every page', async () => {
    // Prepare
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolves({
        Reservations: [
          { Instances: [{ InstanceId: 'i-1', ImageId: 'ami-00000001', State: { Name: 'stopped' } }] },
        ],
        NextToken: 'instances-2',
      })
      .on(DescribeInstancesCommand, { NextToken: 'instances-2' })
      .resolves({
        Reservations: [
          { Instances: [{ InstanceId: 'i-2', ImageId: 'ami-00000001', State: { Name: 'running' } }] },
        ],
      });
    ec2Mock
      .on(DescribeLaunchTemplateVersionsCommand)
      .resolves({
        LaunchTemplateVersions: [
          {
            LaunchTemplateId: 'lt-other',
            LaunchTemplateName: 'other',
            VersionNumber: 1,
            DefaultVersion: true,
            LaunchTemplateData: { ImageId: 'ami-00000099' },
          },
        ],
        NextToken: 'versions-2',
      })
      .on(DescribeLaunchTemplateVersionsCommand, { NextToken: 'versions-2' })
      .resolves({
        LaunchTemplateVersions: [
          // The image id as ResolveAlias returns it for a `resolve:ssm:` template.
          {
            LaunchTemplateId: 'lt-web',
            LaunchTemplateName: 'web',
            VersionNumber: 3,
            DefaultVersion: true,
            LaunchTemplateData: { ImageId: 'ami-00000001' },
          },
          {
            LaunchTemplateId: 'lt-web',
            LaunchTemplateName: 'web',
            VersionNumber: 4,
            DefaultVersion: false,
            LaunchTemplateData: { ImageId: 'ami-00000001' },
          },
        ],
      });

    // Act
    const references = await readsFor('ami-00000001');

    // Assess
    expect(references).toEqual([
      { imageId: 'ami-00000001', kind: 'instance', source: 'instance i-1 (stopped)' },
      { imageId: 'ami-00000001', kind: 'instance', source: 'instance i-2 (running)' },
      { imageId: 'ami-00000001', kind: 'launch-template', source: 'launch-template lt-web v3 ($Default)' },
      { imageId: 'ami-00000001', kind: 'launch-template', source: 'launch-template lt-web v4 ($Latest)' },
    ]);
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeInstancesCommand, 2);
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      MaxResults: 1000,
      Filters: [
        { Name: 'image-id', Values: ['ami-00000001'] },
        {
          Name: 'instance-state-name',
          Values: ['pending', 'running', 'shutting-down', 'stopping', 'stopped'],
        },
      ],
    });
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeLaunchTemplateVersionsCommand, 2);
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeLaunchTemplateVersionsCommand, {
      Versions: ['$Default', '$Latest'],
      ResolveAlias: true,
      MaxResults: 200,
    });
  });

  it('answers no references only after reading everything', async () => {
    // Prepare
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    ec2Mock.on(DescribeLaunchTemplateVersionsCommand).resolves({ LaunchTemplateVersions: [] });

    // Act
    const references = await readsFor('ami-00000001');

    // Assess
    expect(references).toEqual([]);
    expect(ec2Mock).toHaveReceivedCommandOnce(DescribeInstancesCommand);
    expect(ec2Mock).toHaveReceivedCommandOnce(DescribeLaunchTemplateVersionsCommand);
  });

  it('throws instead of answering "unused" when a read fails', async () => {
    // Prepare
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    ec2Mock
      .on(DescribeLaunchTemplateVersionsCommand)
      .resolves({ LaunchTemplateVersions: [], NextToken: 'p2' })
      .on(DescribeLaunchTemplateVersionsCommand, { NextToken: 'p2' })
      .rejects(awsError('UnauthorizedOperation'));

    // Act
    const act = readsFor('ami-00000001');

    // Assess
    await expect(act).rejects.toThrow(InventoryReadError);
    await expect(act).rejects.toThrow('DescribeLaunchTemplateVersions failed: UnauthorizedOperation');
  });

  it('throws TransientAwsError when a read is throttled, so the step is retried', async () => {
    // Prepare
    ec2Mock.on(DescribeInstancesCommand).rejects(awsError('RequestLimitExceeded', 503));
    ec2Mock.on(DescribeLaunchTemplateVersionsCommand).resolves({ LaunchTemplateVersions: [] });

    // Act
    const act = readsFor('ami-00000001');

    // Assess
    await expect(act).rejects.toThrow(TransientAwsError);
    await expect(act).rejects.toMatchObject({ name: 'TransientAwsError', code: 'RequestLimitExceeded' });
  });

  it('throws on a repeated page token', async () => {
    // Prepare
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [], NextToken: 'same' });
    ec2Mock.on(DescribeLaunchTemplateVersionsCommand).resolves({ LaunchTemplateVersions: [] });

    // Act
    const act = readsFor('ami-00000001');

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'InventoryReadError', code: 'RepeatedPageToken' });
  });
});

describe('deregisterImage', () => {
  it('deregisters the image, keeping its snapshots for the separate, checked deletion', async () => {
    // Prepare
    ec2Mock.on(DeregisterImageCommand).resolves({});

    // Act
    const outcome = await deregisterImage(ec2, 'ami-00000001');

    // Assess
    expect(outcome).toBe('deregistered');
    expect(ec2Mock).toHaveReceivedCommandExactlyOnceWith(DeregisterImageCommand, { ImageId: 'ami-00000001' });
    expect(ec2Mock).not.toHaveReceivedCommandWith(DeregisterImageCommand, {
      DeleteAssociatedSnapshots: true,
    });
  });

  it.each(['InvalidAMIID.NotFound', 'InvalidAMIID.Unavailable'])(
    'treats %s as already gone',
    async (code) => {
      // Prepare
      ec2Mock.on(DeregisterImageCommand).rejects(awsError(code));

      // Act
      const outcome = await deregisterImage(ec2, 'ami-00000001');

      // Assess
      expect(outcome).toBe('already-gone');
    },
  );

  it.each([
    ['RequestLimitExceeded', 400],
    ['InternalError', 500],
    ['Unavailable', 503],
  ])('wraps %s in TransientAwsError', async (code, status) => {
    // Prepare
    ec2Mock.on(DeregisterImageCommand).rejects(awsError(code, status));

    // Act
    const act = deregisterImage(ec2, 'ami-00000001');

    // Assess
    await expect(act).rejects.toThrow(TransientAwsError);
    await expect(act).rejects.toThrow(`DeregisterImage failed transiently: ${code}`);
  });

  it('rethrows other errors unchanged for the Map to record', async () => {
    // Prepare
    const error = awsError('UnauthorizedOperation');
    ec2Mock.on(DeregisterImageCommand).rejects(error);

    // Act
    const act = deregisterImage(ec2, 'ami-00000001');

    // Assess
    await expect(act).rejects.toBe(error);
  });
});

describe('snapshotUsedByOtherImage', () => {
  it('returns every owned image, on every page, that still maps the snapshot', async () => {
    // Prepare
    ec2Mock
      .on(DescribeImagesCommand)
      .resolves({ Images: [{ ImageId: 'ami-0000000a' }], NextToken: 'p2' })
      .on(DescribeImagesCommand, { NextToken: 'p2' })
      .resolves({ Images: [{ ImageId: 'ami-0000000b' }] });

    // Act
    const users = await snapshotUsedByOtherImage(ec2, 'snap-1');

    // Assess
    expect(users).toEqual(['ami-0000000a', 'ami-0000000b']);
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeImagesCommand, {
      Owners: ['self'],
      IncludeDisabled: true,
      IncludeDeprecated: true,
      MaxResults: 1000,
      Filters: [{ Name: 'block-device-mapping.snapshot-id', Values: ['snap-1'] }],
    });
  });

  it('throws when the read fails rather than reporting the snapshot unused', async () => {
    // Prepare
    ec2Mock.on(DescribeImagesCommand).rejects(awsError('UnauthorizedOperation'));

    // Act
    const act = snapshotUsedByOtherImage(ec2, 'snap-1');

    // Assess
    await expect(act).rejects.toThrow(InventoryReadError);
  });
});

describe('deleteSnapshot', () => {
  it('deletes the snapshot', async () => {
    // Prepare
    ec2Mock.on(DeleteSnapshotCommand).resolves({});

    // Act
    const outcome = await deleteSnapshot(ec2, 'snap-1');

    // Assess
    expect(outcome).toBe('deleted');
    expect(ec2Mock).toHaveReceivedCommandExactlyOnceWith(DeleteSnapshotCommand, { SnapshotId: 'snap-1' });
  });

  it.each([
    ['InvalidSnapshot.NotFound', 'already-gone'],
    ['InvalidSnapshot.InUse', 'in-use'],
  ])('maps %s to %s', async (code, expected) => {
    // Prepare
    ec2Mock.on(DeleteSnapshotCommand).rejects(awsError(code));

    // Act
    const outcome = await deleteSnapshot(ec2, 'snap-1');

    // Assess
    expect(outcome).toBe(expected);
  });

  it('wraps throttling in TransientAwsError', async () => {
    // Prepare
    ec2Mock.on(DeleteSnapshotCommand).rejects(awsError('RequestLimitExceeded'));

    // Act
    const act = deleteSnapshot(ec2, 'snap-1');

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'TransientAwsError', operation: 'DeleteSnapshot' });
  });

  it('rethrows other errors unchanged', async () => {
    // Prepare
    const error = awsError('InvalidSnapshotID.Malformed');
    ec2Mock.on(DeleteSnapshotCommand).rejects(error);

    // Act
    const act = deleteSnapshot(ec2, 'snap-1');

    // Assess
    await expect(act).rejects.toBe(error);
  });
});

describe('imageExists', () => {
  it('is true when the filtered read returns the image', async () => {
    // Prepare
    ec2Mock.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-00000001', State: 'disabled' }] });

    // Act
    const exists = await imageExists(ec2, 'ami-00000001');

    // Assess
    expect(exists).toBe(true);
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeImagesCommand, {
      IncludeDisabled: true,
      IncludeDeprecated: true,
      Filters: [{ Name: 'image-id', Values: ['ami-00000001'] }],
    });
    // ImageIds would make EC2 throw InvalidAMIID.NotFound for a missing image.
    expect(ec2Mock.commandCalls(DescribeImagesCommand)[0]?.args[0].input.ImageIds).toBeUndefined();
  });

  it('is false when no page returns it', async () => {
    // Prepare
    ec2Mock
      .on(DescribeImagesCommand)
      .resolves({ Images: [], NextToken: 'p2' })
      .on(DescribeImagesCommand, { NextToken: 'p2' })
      .resolves({ Images: [] });

    // Act
    const exists = await imageExists(ec2, 'ami-00000001');

    // Assess
    expect(exists).toBe(false);
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeImagesCommand, 2);
  });

  it('throws when the read fails, so an orphan is never assumed', async () => {
    // Prepare
    ec2Mock.on(DescribeImagesCommand).rejects(awsError('RequestLimitExceeded'));

    // Act
    const act = imageExists(ec2, 'ami-00000001');

    // Assess
    await expect(act).rejects.toThrow(TransientAwsError);
  });
});
