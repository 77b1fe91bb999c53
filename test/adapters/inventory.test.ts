import {
  AutoScalingClient,
  AutoScalingServiceException,
  DescribeAutoScalingGroupsCommand,
  DescribeLaunchConfigurationsCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  EC2ServiceException,
} from '@aws-sdk/client-ec2';
import {
  ImagebuilderClient,
  ImagebuilderServiceException,
  ListContainerRecipesCommand,
  ListImageRecipesCommand,
} from '@aws-sdk/client-imagebuilder';
import { GetParametersByPathCommand, SSMClient, SSMServiceException } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InventoryReadError } from '../../functions/adapters/errors.ts';
import {
  DESCRIBE_CONCURRENCY,
  type ReadInventoryOptions,
  readInventory,
  readLaunchPermissions,
} from '../../functions/adapters/inventory.ts';
import type { Inventory } from '../../functions/core/model.ts';

const ec2Mock = mockClient(EC2Client);
const autoScalingMock = mockClient(AutoScalingClient);
const ssmMock = mockClient(SSMClient);
const imageBuilderMock = mockClient(ImagebuilderClient);
const clients = {
  ec2: new EC2Client({ region: 'eu-west-1' }),
  autoScaling: new AutoScalingClient({ region: 'eu-west-1' }),
  ssm: new SSMClient({ region: 'eu-west-1' }),
  imageBuilder: new ImagebuilderClient({ region: 'eu-west-1' }),
};
const options: ReadInventoryOptions = {
  region: 'eu-west-1',
  ssmParameterPaths: ['/golden'],
  includeSnapshots: true,
  now: () => new Date('2030-01-02T03:04:05.000Z'),
};

const imageBuilderDenied = (message: string) =>
  new ImagebuilderServiceException({ name: 'ForbiddenException', message, $fault: 'client', $metadata: {} });
const ec2Error = (name: string, message = 'failed') =>
  new EC2ServiceException({ name, message, $fault: 'client', $metadata: { httpStatusCode: 400 } });

/** Every source answers one empty page, so each test only states the source it is about. */
function emptyAccount(): void {
  ec2Mock.on(DescribeImagesCommand).resolves({ Images: [] });
  ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
  ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
  ec2Mock.on(DescribeLaunchTemplatesCommand).resolves({ LaunchTemplates: [] });
  ec2Mock.on(DescribeLaunchTemplateVersionsCommand).resolves({ LaunchTemplateVersions: [] });
  autoScalingMock.on(DescribeLaunchConfigurationsCommand).resolves({ LaunchConfigurations: [] });
  autoScalingMock.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
  ssmMock.on(GetParametersByPathCommand).resolves({ Parameters: [] });
  imageBuilderMock.on(ListImageRecipesCommand).resolves({ imageRecipeSummaryList: [] });
  imageBuilderMock.on(ListContainerRecipesCommand).resolves({ containerRecipeSummaryList: [] });
}

/** Runs the read and keeps both outcomes apart, so a test can assert no inventory came back. */
async function settle(promise: Promise<Inventory>): Promise<{ inventory?: Inventory; error?: unknown }> {
  return promise.then(
    (inventory) => ({ inventory }),
    (error: unknown) => ({ error }),
  );
}

describe('readInventory', () => {
  beforeEach(() => {
    emptyAccount();
  });

  afterEach(() => {
    ec2Mock.reset();
    autoScalingMock.reset();
    ssmMock.reset();
    imageBuilderMock.reset();
  });

  it('reads every page of owned images, disabled and deprecated included, 1000 a page', async () => {
    // Prepare
    ec2Mock
      .on(DescribeImagesCommand)
      .resolves({
        Images: [
          {
            ImageId: 'ami-00000001',
            Name: 'web-1',
            CreationDate: '2030-01-01T00:00:00.000Z',
            State: 'available',
            Public: true,
            DeregistrationProtection: 'enabled-with-cooldown',
            Tags: [
              { Key: 'env', Value: 'prod' },
              { Key: 'app', Value: 'web' },
            ],
            BlockDeviceMappings: [
              { DeviceName: '/dev/xvda', Ebs: { SnapshotId: 'snap-root', VolumeSize: 8 } },
              { DeviceName: '/dev/xvdb', Ebs: { SnapshotId: 'snap-data', VolumeSize: 100 } },
              { DeviceName: '/dev/sdc', VirtualName: 'ephemeral0' },
            ],
          },
        ],
        NextToken: 'images-2',
      })
      .on(DescribeImagesCommand, { NextToken: 'images-2' })
      .resolves({
        Images: [
          {
            ImageId: 'ami-00000002',
            Name: 'web-2',
            CreationDate: '2030-01-02T00:00:00.000Z',
            State: 'disabled',
            DeregistrationProtection: 'disabled',
          },
          {
            ImageId: 'ami-00000003',
            Name: 'web-3',
            CreationDate: '2030-01-03T00:00:00.000Z',
            State: 'pending',
          },
        ],
      });

    // Act
    const inventory = await readInventory(clients, options);

    // Assess
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeImagesCommand, 2);
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeImagesCommand, {
      Owners: ['self'],
      IncludeDisabled: true,
      IncludeDeprecated: true,
      MaxResults: 1000,
    });
    expect(inventory.images).toEqual([
      {
        imageId: 'ami-00000001',
        name: 'web-1',
        creationDate: '2030-01-01T00:00:00.000Z',
        state: 'available',
        tags: { env: 'prod', app: 'web' },
        snapshots: [
          { deviceName: '/dev/xvda', snapshotId: 'snap-root', sizeGiB: 8 },
          { deviceName: '/dev/xvdb', snapshotId: 'snap-data', sizeGiB: 100 },
        ],
        isPublic: true,
        deregistrationProtection: true,
      },
      {
        imageId: 'ami-00000002',
        name: 'web-2',
        creationDate: '2030-01-02T00:00:00.000Z',
        state: 'disabled',
        tags: {},
        snapshots: [],
        isPublic: false,
        deregistrationProtection: false,
      },
      {
        imageId: 'ami-00000003',
        name: 'web-3',
        creationDate: '2030-01-03T00:00:00.000Z',
        state: 'pending',
        tags: {},
        snapshots: [],
        isPublic: false,
        deregistrationProtection: false,
      },
    ]);
    expect(inventory.region).toBe('eu-west-1');
    expect(inventory.readAt).toBe('2030-01-02T03:04:05.000Z');
  });

  it('reads every page of completed CreateImage/CopyImage snapshots', async () => {
    // Prepare
    ec2Mock
      .on(DescribeSnapshotsCommand)
      .resolves({
        Snapshots: [
          {
            SnapshotId: 'snap-1',
            VolumeSize: 8,
            Description: 'Created by CreateImage(i-1) for ami-00000001',
            State: 'completed',
            StartTime: new Date('2030-01-01T00:00:00.000Z'),
          },
        ],
        NextToken: 'snapshots-2',
      })
      .on(DescribeSnapshotsCommand, { NextToken: 'snapshots-2' })
      .resolves({
        Snapshots: [
          {
            SnapshotId: 'snap-2',
            VolumeSize: 30,
            Description: 'Copied for DestinationAmi ami-00000002 from SourceAmi ami-9',
            State: 'completed',
            StartTime: new Date('2030-01-02T00:00:00.000Z'),
          },
        ],
      });

    // Act
    const inventory = await readInventory(clients, options);

    // Assess
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeSnapshotsCommand, 2);
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeSnapshotsCommand, {
      OwnerIds: ['self'],
      MaxResults: 1000,
      Filters: [
        { Name: 'status', Values: ['completed'] },
        { Name: 'description', Values: ['Created by CreateImage*', 'Copied for DestinationAmi*'] },
      ],
    });
    expect(inventory.snapshots).toEqual([
      {
        snapshotId: 'snap-1',
        sizeGiB: 8,
        description: 'Created by CreateImage(i-1) for ami-00000001',
        state: 'completed',
        startTime: '2030-01-01T00:00:00.000Z',
      },
      {
        snapshotId: 'snap-2',
        sizeGiB: 30,
        description: 'Copied for DestinationAmi ami-00000002 from SourceAmi ami-9',
        state: 'completed',
        startTime: '2030-01-02T00:00:00.000Z',
      },
    ]);
  });

  it('does not read snapshots unless asked to', async () => {
    // Act
    const inventory = await readInventory(clients, { ...options, includeSnapshots: false });

    // Assess
    expect(ec2Mock).not.toHaveReceivedCommand(DescribeSnapshotsCommand);
    expect(inventory.snapshots).toEqual([]);
  });

  it('reads every page of instances in every state but terminated, excluded by filter', async () => {
    // Prepare
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolves({
        Reservations: [
          { Instances: [{ InstanceId: 'i-1', ImageId: 'ami-00000001', State: { Name: 'running' } }] },
        ],
        NextToken: 'instances-2',
      })
      .on(DescribeInstancesCommand, { NextToken: 'instances-2' })
      .resolves({
        Reservations: [
          {
            Instances: [
              { InstanceId: 'i-2', ImageId: 'ami-00000002', State: { Name: 'stopped' } },
              { InstanceId: 'i-3', ImageId: 'ami-00000003', State: { Name: 'pending' } },
            ],
          },
        ],
      });

    // Act
    const inventory = await readInventory(clients, options);

    // Assess
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeInstancesCommand, 2);
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      MaxResults: 1000,
      Filters: [
        {
          Name: 'instance-state-name',
          Values: ['pending', 'running', 'shutting-down', 'stopping', 'stopped'],
        },
      ],
    });
    expect(inventory.instances).toEqual([
      { instanceId: 'i-1', imageId: 'ami-00000001', state: 'running' },
      { instanceId: 'i-2', imageId: 'ami-00000002', state: 'stopped' },
      { instanceId: 'i-3', imageId: 'ami-00000003', state: 'pending' },
    ]);
  });

  it('reads every page of templates and of all $Default/$Latest versions, aliases resolved', async () => {
    // Prepare
    ec2Mock
      .on(DescribeLaunchTemplatesCommand)
      .resolves({
        LaunchTemplates: [
          {
            LaunchTemplateId: 'lt-1',
            LaunchTemplateName: 'web',
            DefaultVersionNumber: 1,
            LatestVersionNumber: 2,
          },
        ],
        NextToken: 'templates-2',
      })
      .on(DescribeLaunchTemplatesCommand, { NextToken: 'templates-2' })
      .resolves({
        LaunchTemplates: [
          {
            LaunchTemplateId: 'lt-2',
            LaunchTemplateName: 'api',
            DefaultVersionNumber: 4,
            LatestVersionNumber: 4,
          },
        ],
      });
    ec2Mock
      .on(DescribeLaunchTemplateVersionsCommand)
      .resolves({
        LaunchTemplateVersions: [
          {
            LaunchTemplateId: 'lt-1',
            LaunchTemplateName: 'web',
            VersionNumber: 1,
            DefaultVersion: true,
            LaunchTemplateData: { ImageId: 'ami-00000001' },
          },
          {
            LaunchTemplateId: 'lt-1',
            LaunchTemplateName: 'web',
            VersionNumber: 2,
            LaunchTemplateData: { ImageId: 'ami-00000002' },
          },
        ],
        NextToken: 'versions-2',
      })
      .on(DescribeLaunchTemplateVersionsCommand, { NextToken: 'versions-2' })
      .resolves({
        LaunchTemplateVersions: [
          { LaunchTemplateId: 'lt-2', LaunchTemplateName: 'api', VersionNumber: 4, LaunchTemplateData: {} },
        ],
      });

    // Act
    const inventory = await readInventory(clients, options);

    // Assess
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeLaunchTemplatesCommand, 2);
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeLaunchTemplatesCommand, { MaxResults: 200 });
    // Both pages, and nothing else: every version in use was already read.
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeLaunchTemplateVersionsCommand, 2);
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeLaunchTemplateVersionsCommand, {
      Versions: ['$Default', '$Latest'],
      ResolveAlias: true,
      MaxResults: 200,
    });
    expect(ec2Mock).not.toHaveReceivedCommandWith(DescribeLaunchTemplateVersionsCommand, {
      LaunchTemplateId: 'lt-1',
    });
    expect(inventory.launchTemplates).toEqual([
      { launchTemplateId: 'lt-1', launchTemplateName: 'web', defaultVersion: 1, latestVersion: 2 },
      { launchTemplateId: 'lt-2', launchTemplateName: 'api', defaultVersion: 4, latestVersion: 4 },
    ]);
    expect(inventory.launchTemplateVersions).toEqual([
      { launchTemplateId: 'lt-1', launchTemplateName: 'web', versionNumber: 1, imageId: 'ami-00000001' },
      { launchTemplateId: 'lt-1', launchTemplateName: 'web', versionNumber: 2, imageId: 'ami-00000002' },
      { launchTemplateId: 'lt-2', launchTemplateName: 'api', versionNumber: 4 },
    ]);
  });

  it('fetches launch template versions that Auto Scaling groups name by number', async () => {
    // Prepare
    ec2Mock.on(DescribeLaunchTemplatesCommand).resolves({
      LaunchTemplates: [
        {
          LaunchTemplateId: 'lt-1',
          LaunchTemplateName: 'web',
          DefaultVersionNumber: 3,
          LatestVersionNumber: 3,
        },
        {
          LaunchTemplateId: 'lt-2',
          LaunchTemplateName: 'api',
          DefaultVersionNumber: 9,
          LatestVersionNumber: 9,
        },
      ],
    });
    ec2Mock
      .on(DescribeLaunchTemplateVersionsCommand)
      .resolves({
        LaunchTemplateVersions: [
          {
            LaunchTemplateId: 'lt-1',
            LaunchTemplateName: 'web',
            VersionNumber: 3,
            LaunchTemplateData: { ImageId: 'ami-00000003' },
          },
          {
            LaunchTemplateId: 'lt-2',
            LaunchTemplateName: 'api',
            VersionNumber: 9,
            LaunchTemplateData: { ImageId: 'ami-00000009' },
          },
        ],
      })
      .on(DescribeLaunchTemplateVersionsCommand, { LaunchTemplateId: 'lt-1' })
      .resolves({
        LaunchTemplateVersions: [
          {
            LaunchTemplateId: 'lt-1',
            LaunchTemplateName: 'web',
            VersionNumber: 1,
            LaunchTemplateData: { ImageId: 'ami-00000001' },
          },
        ],
        NextToken: 'lt-1-page-2',
      })
      .on(DescribeLaunchTemplateVersionsCommand, { LaunchTemplateId: 'lt-1', NextToken: 'lt-1-page-2' })
      .resolves({
        LaunchTemplateVersions: [
          {
            LaunchTemplateId: 'lt-1',
            LaunchTemplateName: 'web',
            VersionNumber: 2,
            LaunchTemplateData: { ImageId: 'ami-00000002' },
          },
        ],
      })
      .on(DescribeLaunchTemplateVersionsCommand, { LaunchTemplateId: 'lt-2' })
      .resolves({
        LaunchTemplateVersions: [
          {
            LaunchTemplateId: 'lt-2',
            LaunchTemplateName: 'api',
            VersionNumber: 5,
            LaunchTemplateData: { ImageId: 'ami-00000005' },
          },
        ],
      });
    autoScalingMock.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [
        {
          AutoScalingGroupName: 'web-asg',
          DesiredCapacity: 0,
          LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '1' },
          MinSize: 0,
          MaxSize: 1,
          DefaultCooldown: 300,
          AvailabilityZones: [],
          HealthCheckType: 'EC2',
          CreatedTime: new Date(),
        },
        {
          AutoScalingGroupName: 'mixed-asg',
          DesiredCapacity: 2,
          MixedInstancesPolicy: {
            LaunchTemplate: {
              LaunchTemplateSpecification: { LaunchTemplateName: 'web', Version: '2' },
              Overrides: [
                {
                  InstanceType: 'm7g.large',
                  LaunchTemplateSpecification: { LaunchTemplateName: 'api', Version: '5' },
                },
                // Already read: must not cause another call.
                { LaunchTemplateSpecification: { LaunchTemplateId: 'lt-2', Version: '$Latest' } },
              ],
            },
          },
          MinSize: 0,
          MaxSize: 4,
          DefaultCooldown: 300,
          AvailabilityZones: [],
          HealthCheckType: 'EC2',
          CreatedTime: new Date(),
        },
      ],
    });

    // Act
    const inventory = await readInventory(clients, options);

    // Assess
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeLaunchTemplateVersionsCommand, {
      LaunchTemplateId: 'lt-1',
      Versions: ['1', '2'],
      ResolveAlias: true,
      MaxResults: 200,
    });
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeLaunchTemplateVersionsCommand, {
      LaunchTemplateId: 'lt-2',
      Versions: ['5'],
      ResolveAlias: true,
    });
    // Account-wide read, lt-1 twice (two pages), lt-2 once.
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeLaunchTemplateVersionsCommand, 4);
    expect(
      inventory.launchTemplateVersions.map((v) => `${v.launchTemplateId} v${v.versionNumber} ${v.imageId}`),
    ).toEqual([
      'lt-1 v3 ami-00000003',
      'lt-2 v9 ami-00000009',
      'lt-1 v1 ami-00000001',
      'lt-1 v2 ami-00000002',
      'lt-2 v5 ami-00000005',
    ]);
  });

  it('fails closed when a version an Auto Scaling group names is not returned', async () => {
    // Prepare
    ec2Mock.on(DescribeLaunchTemplatesCommand).resolves({
      LaunchTemplates: [
        {
          LaunchTemplateId: 'lt-1',
          LaunchTemplateName: 'web',
          DefaultVersionNumber: 3,
          LatestVersionNumber: 3,
        },
      ],
    });
    ec2Mock.on(DescribeLaunchTemplateVersionsCommand).resolves({
      LaunchTemplateVersions: [
        { LaunchTemplateId: 'lt-1', LaunchTemplateName: 'web', VersionNumber: 3, LaunchTemplateData: {} },
      ],
    });
    autoScalingMock.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [
        {
          AutoScalingGroupName: 'web-asg',
          DesiredCapacity: 1,
          LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '2' },
          MinSize: 0,
          MaxSize: 1,
          DefaultCooldown: 300,
          AvailabilityZones: [],
          HealthCheckType: 'EC2',
          CreatedTime: new Date(),
        },
      ],
    });

    // Act
    const outcome = await settle(readInventory(clients, options));

    // Assess
    expect(outcome.inventory).toBeUndefined();
    expect(outcome.error).toBeInstanceOf(InventoryReadError);
    expect((outcome.error as InventoryReadError).code).toBe('MissingLaunchTemplateVersion');
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeLaunchTemplateVersionsCommand, {
      LaunchTemplateId: 'lt-1',
      Versions: ['2'],
    });
  });

  it('fails closed when a launch template alias stays unresolved', async () => {
    // Prepare
    ec2Mock.on(DescribeLaunchTemplateVersionsCommand).resolves({
      LaunchTemplateVersions: [
        {
          LaunchTemplateId: 'lt-1',
          LaunchTemplateName: 'web',
          VersionNumber: 1,
          LaunchTemplateData: { ImageId: 'resolve:ssm:/golden/web' },
        },
      ],
    });

    // Act
    const outcome = await settle(readInventory(clients, options));

    // Assess
    expect(outcome.inventory).toBeUndefined();
    expect((outcome.error as InventoryReadError).code).toBe('UnresolvedImageAlias');
  });

  it('reads every page of launch configurations and Auto Scaling groups, mixed policies included', async () => {
    // Prepare
    const asgBase = {
      MinSize: 0,
      MaxSize: 1,
      DefaultCooldown: 300,
      AvailabilityZones: [],
      HealthCheckType: 'EC2',
      CreatedTime: new Date(),
    };
    autoScalingMock
      .on(DescribeLaunchConfigurationsCommand)
      .resolves({
        LaunchConfigurations: [
          {
            LaunchConfigurationName: 'old-lc',
            ImageId: 'ami-0000000a',
            InstanceType: 't3.micro',
            CreatedTime: new Date(),
          },
        ],
        NextToken: 'lcs-2',
      })
      .on(DescribeLaunchConfigurationsCommand, { NextToken: 'lcs-2' })
      .resolves({
        LaunchConfigurations: [
          {
            LaunchConfigurationName: 'orphan-lc',
            ImageId: 'ami-0000000b',
            InstanceType: 't3.micro',
            CreatedTime: new Date(),
          },
        ],
      });
    autoScalingMock
      .on(DescribeAutoScalingGroupsCommand)
      .resolves({
        AutoScalingGroups: [
          {
            ...asgBase,
            AutoScalingGroupName: 'lc-asg',
            DesiredCapacity: 0,
            LaunchConfigurationName: 'old-lc',
          },
        ],
        NextToken: 'asgs-2',
      })
      .on(DescribeAutoScalingGroupsCommand, { NextToken: 'asgs-2' })
      .resolves({
        AutoScalingGroups: [
          {
            ...asgBase,
            AutoScalingGroupName: 'mixed-asg',
            DesiredCapacity: 3,
            MixedInstancesPolicy: {
              LaunchTemplate: {
                LaunchTemplateSpecification: { LaunchTemplateName: 'web' },
                Overrides: [
                  { InstanceType: 'm7i.large' },
                  {
                    InstanceType: 'm7g.large',
                    LaunchTemplateSpecification: { LaunchTemplateId: 'lt-arm', Version: '$Latest' },
                  },
                ],
              },
            },
          },
        ],
      });
    // The groups name templates the account-wide read did not return: they are asked for directly.
    ec2Mock
      .on(DescribeLaunchTemplateVersionsCommand, { LaunchTemplateName: 'web' })
      .resolves({
        LaunchTemplateVersions: [{ LaunchTemplateId: 'lt-web', LaunchTemplateName: 'web', VersionNumber: 1 }],
      })
      .on(DescribeLaunchTemplateVersionsCommand, { LaunchTemplateId: 'lt-arm' })
      .resolves({
        LaunchTemplateVersions: [{ LaunchTemplateId: 'lt-arm', LaunchTemplateName: 'arm', VersionNumber: 7 }],
      });

    // Act
    const inventory = await readInventory(clients, options);

    // Assess
    expect(autoScalingMock).toHaveReceivedCommandTimes(DescribeLaunchConfigurationsCommand, 2);
    expect(autoScalingMock).toHaveReceivedCommandWith(DescribeLaunchConfigurationsCommand, {
      MaxRecords: 100,
    });
    expect(autoScalingMock).toHaveReceivedCommandTimes(DescribeAutoScalingGroupsCommand, 2);
    expect(autoScalingMock).toHaveReceivedCommandWith(DescribeAutoScalingGroupsCommand, { MaxRecords: 100 });
    expect(inventory.launchConfigurations).toEqual([
      { name: 'old-lc', imageId: 'ami-0000000a' },
      { name: 'orphan-lc', imageId: 'ami-0000000b' },
    ]);
    expect(inventory.autoScalingGroups).toEqual([
      { name: 'lc-asg', desiredCapacity: 0, launchConfigurationName: 'old-lc' },
      {
        name: 'mixed-asg',
        desiredCapacity: 3,
        mixedInstancesLaunchTemplate: { launchTemplateName: 'web' },
        mixedInstancesOverrideTemplates: [{ launchTemplateId: 'lt-arm', version: '$Latest' }],
      },
    ]);
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeLaunchTemplateVersionsCommand, {
      LaunchTemplateName: 'web',
      Versions: ['$Default'],
    });
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeLaunchTemplateVersionsCommand, {
      LaunchTemplateId: 'lt-arm',
      Versions: ['$Latest'],
    });
    expect(inventory.launchTemplateVersions.map((v) => `${v.launchTemplateId} v${v.versionNumber}`)).toEqual([
      'lt-web v1',
      'lt-arm v7',
    ]);
  });

  it('reads every page of every SSM path recursively and keeps only AMI ids', async () => {
    // Prepare
    ssmMock
      .on(GetParametersByPathCommand, { Path: '/golden' })
      .resolves({
        Parameters: [
          { Name: '/golden/web', Value: 'ami-0123456789abcdef0' },
          { Name: '/golden/owner', Value: 'platform-team' },
        ],
        NextToken: 'golden-2',
      })
      .on(GetParametersByPathCommand, { Path: '/golden', NextToken: 'golden-2' })
      .resolves({
        Parameters: [
          { Name: '/golden/fleet', Value: 'ami-0000000a,ami-0000000b' },
          { Name: '/golden/not-an-ami', Value: 'amigo-12345678' },
        ],
      })
      .on(GetParametersByPathCommand, { Path: '/apps' })
      .resolves({ Parameters: [{ Name: '/apps/api/ami', Value: 'ami-0000000c' }] });

    // Act
    const inventory = await readInventory(clients, { ...options, ssmParameterPaths: ['/golden', '/apps'] });

    // Assess
    expect(ssmMock).toHaveReceivedCommandTimes(GetParametersByPathCommand, 3);
    expect(ssmMock).toHaveReceivedCommandWith(GetParametersByPathCommand, {
      Path: '/golden',
      Recursive: true,
      MaxResults: 10,
    });
    expect(ssmMock).toHaveReceivedCommandWith(GetParametersByPathCommand, { Path: '/apps', Recursive: true });
    expect(inventory.ssmParameters).toEqual([
      { name: '/golden/web', value: 'ami-0123456789abcdef0' },
      { name: '/golden/fleet', value: 'ami-0000000a' },
      { name: '/golden/fleet', value: 'ami-0000000b' },
      { name: '/apps/api/ami', value: 'ami-0000000c' },
    ]);
  });

  it('fails closed on a SecureString under a configured path, whose AMI id it cannot see', async () => {
    // Prepare
    ssmMock.on(GetParametersByPathCommand, { Path: '/golden' }).resolves({
      Parameters: [
        { Name: '/golden/web', Type: 'String', Value: 'ami-0123456789abcdef0' },
        { Name: '/golden/secret', Type: 'SecureString', Value: 'AQICAHh...ciphertext' },
      ],
    });

    // Act
    const attempt = readInventory(clients, { ...options, ssmParameterPaths: ['/golden'] });

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: 'InventoryReadError',
      code: 'SecureStringUnreadable',
      message: expect.stringContaining('/golden/secret is a SecureString'),
    });
  });

  describe('fails closed, returning no inventory, when a source fails after its first page', () => {
    const denied = (source: string) => `${source} denied`;
    const cases: ReadonlyArray<{ source: string; fail: () => void }> = [
      {
        source: 'DescribeImages',
        fail: () =>
          ec2Mock
            .on(DescribeImagesCommand)
            .resolves({ Images: [], NextToken: 'p2' })
            .on(DescribeImagesCommand, { NextToken: 'p2' })
            .rejects(ec2Error('UnauthorizedOperation', denied('DescribeImages'))),
      },
      {
        source: 'DescribeSnapshots',
        fail: () =>
          ec2Mock
            .on(DescribeSnapshotsCommand)
            .resolves({ Snapshots: [], NextToken: 'p2' })
            .on(DescribeSnapshotsCommand, { NextToken: 'p2' })
            .rejects(ec2Error('UnauthorizedOperation', denied('DescribeSnapshots'))),
      },
      {
        source: 'DescribeInstances',
        fail: () =>
          ec2Mock
            .on(DescribeInstancesCommand)
            .resolves({ Reservations: [], NextToken: 'p2' })
            .on(DescribeInstancesCommand, { NextToken: 'p2' })
            .rejects(ec2Error('UnauthorizedOperation', denied('DescribeInstances'))),
      },
      {
        source: 'DescribeLaunchTemplates',
        fail: () =>
          ec2Mock
            .on(DescribeLaunchTemplatesCommand)
            .resolves({ LaunchTemplates: [], NextToken: 'p2' })
            .on(DescribeLaunchTemplatesCommand, { NextToken: 'p2' })
            .rejects(ec2Error('UnauthorizedOperation', denied('DescribeLaunchTemplates'))),
      },
      {
        source: 'DescribeLaunchTemplateVersions',
        fail: () =>
          ec2Mock
            .on(DescribeLaunchTemplateVersionsCommand)
            .resolves({ LaunchTemplateVersions: [], NextToken: 'p2' })
            .on(DescribeLaunchTemplateVersionsCommand, { NextToken: 'p2' })
            .rejects(ec2Error('UnauthorizedOperation', denied('DescribeLaunchTemplateVersions'))),
      },
      {
        source: 'DescribeLaunchConfigurations',
        fail: () =>
          autoScalingMock
            .on(DescribeLaunchConfigurationsCommand)
            .resolves({ LaunchConfigurations: [], NextToken: 'p2' })
            .on(DescribeLaunchConfigurationsCommand, { NextToken: 'p2' })
            .rejects(
              new AutoScalingServiceException({
                name: 'AccessDenied',
                message: denied('DescribeLaunchConfigurations'),
                $fault: 'client',
                $metadata: {},
              }),
            ),
      },
      {
        source: 'DescribeAutoScalingGroups',
        fail: () =>
          autoScalingMock
            .on(DescribeAutoScalingGroupsCommand)
            .resolves({ AutoScalingGroups: [], NextToken: 'p2' })
            .on(DescribeAutoScalingGroupsCommand, { NextToken: 'p2' })
            .rejects(
              new AutoScalingServiceException({
                name: 'AccessDenied',
                message: denied('DescribeAutoScalingGroups'),
                $fault: 'client',
                $metadata: {},
              }),
            ),
      },
      {
        source: 'GetParametersByPath(/golden)',
        fail: () =>
          ssmMock
            .on(GetParametersByPathCommand)
            .resolves({ Parameters: [], NextToken: 'p2' })
            .on(GetParametersByPathCommand, { NextToken: 'p2' })
            .rejects(
              new SSMServiceException({
                name: 'AccessDeniedException',
                message: denied('GetParametersByPath(/golden)'),
                $fault: 'client',
                $metadata: {},
              }),
            ),
      },
      ...(['ListImageRecipes(Self)', 'ListImageRecipes(Shared)'] as const).map((source) => ({
        source,
        fail: () => {
          const owner = source.includes('Self') ? 'Self' : 'Shared';
          imageBuilderMock
            .on(ListImageRecipesCommand, { owner })
            .resolves({ imageRecipeSummaryList: [], nextToken: 'p2' })
            .on(ListImageRecipesCommand, { owner, nextToken: 'p2' })
            .rejects(imageBuilderDenied(denied(source)));
        },
      })),
      {
        source: 'ListContainerRecipes(Self)',
        fail: () =>
          imageBuilderMock
            .on(ListContainerRecipesCommand, { owner: 'Self' })
            .resolves({ containerRecipeSummaryList: [], nextToken: 'p2' })
            .on(ListContainerRecipesCommand, { owner: 'Self', nextToken: 'p2' })
            .rejects(imageBuilderDenied(denied('ListContainerRecipes(Self)'))),
      },
    ];

    it.each(cases)('$source', async ({ source, fail }) => {
      // Prepare
      fail();

      // Act
      const outcome = await settle(readInventory(clients, options));

      // Assess
      expect(outcome.inventory).toBeUndefined();
      expect(outcome.error).toBeInstanceOf(InventoryReadError);
      const error = outcome.error as InventoryReadError;
      expect(error.name).toBe('InventoryReadError');
      expect(error.source).toBe(source);
      expect(error.message).toMatch(
        new RegExp(
          `^inventory incomplete: ${source.replace(/[()/]/g, '\\$&')} failed: \\S+: ${source.replace(/[()/]/g, '\\$&')} denied$`,
        ),
      );
      expect(error.retryable).toBe(false);
    });
  });

  it('fails closed when a page repeats a NextToken instead of looping', async () => {
    // Prepare
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolves({ Reservations: [], NextToken: 'same' })
      .on(DescribeInstancesCommand, { NextToken: 'same' })
      .resolves({ Reservations: [], NextToken: 'same' });

    // Act
    const outcome = await settle(readInventory(clients, options));

    // Assess
    expect(outcome.inventory).toBeUndefined();
    expect(outcome.error).toBeInstanceOf(InventoryReadError);
    expect((outcome.error as InventoryReadError).code).toBe('RepeatedPageToken');
    expect((outcome.error as Error).message).toContain('DescribeInstances');
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeInstancesCommand, 2);
  });

  it('fails closed at the page limit rather than reading forever', async () => {
    // Prepare
    let page = 0;
    ec2Mock.on(DescribeImagesCommand).callsFake(() => {
      page += 1;
      return { Images: [], NextToken: `token-${page}` };
    });

    // Act
    const outcome = await settle(readInventory(clients, { ...options, maxPages: 5 }));

    // Assess
    expect(outcome.inventory).toBeUndefined();
    expect((outcome.error as InventoryReadError).code).toBe('PageLimitExceeded');
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeImagesCommand, 5);
  });

  it('fails closed on an image lacking a required field instead of skipping it', async () => {
    // Prepare
    ec2Mock.on(DescribeImagesCommand).resolves({
      Images: [{ ImageId: 'ami-00000001', Name: 'web-1', State: 'available' }],
    });

    // Act
    const outcome = await settle(readInventory(clients, options));

    // Assess
    expect(outcome.inventory).toBeUndefined();
    expect((outcome.error as InventoryReadError).code).toBe('MalformedResponse');
    expect((outcome.error as Error).message).toContain('CreationDate (ami-00000001)');
  });

  it('marks throttling as retryable and keeps credentials out of the message', async () => {
    // Prepare
    ec2Mock.on(DescribeImagesCommand).rejects(
      new EC2ServiceException({
        name: 'RequestLimitExceeded',
        message: 'Rate exceeded for Credential=AKIAABCDEFGHIJKLMNOP/20300101/eu-west-1/ec2/aws4_request',
        $fault: 'client',
        $metadata: { httpStatusCode: 503 },
      }),
    );

    // Act
    const outcome = await settle(readInventory(clients, options));

    // Assess
    const error = outcome.error as InventoryReadError;
    expect(outcome.inventory).toBeUndefined();
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('DescribeImages failed: RequestLimitExceeded: Rate exceeded');
    expect(error.message).not.toContain('AKIAABCDEFGHIJKLMNOP');
  });
});

describe('readLaunchPermissions', () => {
  afterEach(() => {
    ec2Mock.reset();
  });

  it('returns the images shared with accounts, organizations or everyone', async () => {
    // Prepare
    ec2Mock
      .on(DescribeImageAttributeCommand)
      .resolves({ LaunchPermissions: [] })
      .on(DescribeImageAttributeCommand, { ImageId: 'ami-0000000a' })
      .resolves({ LaunchPermissions: [{ UserId: '111122223333' }] })
      .on(DescribeImageAttributeCommand, { ImageId: 'ami-0000000b' })
      .resolves({ LaunchPermissions: [{ Group: 'all' }] })
      .on(DescribeImageAttributeCommand, { ImageId: 'ami-0000000c' })
      .resolves({ LaunchPermissions: [{ OrganizationArn: 'arn:aws:organizations::1:organization/o-1' }] });

    // Act
    const shared = await readLaunchPermissions(clients.ec2, [
      'ami-0000000a',
      'ami-0000000b',
      'ami-0000000c',
      'ami-0000000d',
    ]);

    // Assess
    expect([...shared].sort()).toEqual(['ami-0000000a', 'ami-0000000b', 'ami-0000000c']);
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeImageAttributeCommand, {
      ImageId: 'ami-0000000d',
      Attribute: 'launchPermission',
    });
  });

  it('keeps at most DESCRIBE_CONCURRENCY (20) calls in flight', async () => {
    // Prepare
    let inFlight = 0;
    let peak = 0;
    ec2Mock.on(DescribeImageAttributeCommand).callsFake(async () => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
      return { LaunchPermissions: [] };
    });
    const imageIds = Array.from({ length: 50 }, (_, i) => `ami-${String(i).padStart(8, '0')}`);

    // Act
    const shared = await readLaunchPermissions(clients.ec2, imageIds);

    // Assess
    expect(shared.size).toBe(0);
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeImageAttributeCommand, 50);
    expect(peak).toBe(DESCRIBE_CONCURRENCY);
  });

  it('fails closed when one image cannot be read', async () => {
    // Prepare
    ec2Mock
      .on(DescribeImageAttributeCommand)
      .resolves({ LaunchPermissions: [] })
      .on(DescribeImageAttributeCommand, { ImageId: 'ami-0000000b' })
      .rejects(ec2Error('UnauthorizedOperation'));

    // Act
    const act = readLaunchPermissions(clients.ec2, ['ami-0000000a', 'ami-0000000b']);

    // Assess
    await expect(act).rejects.toThrow(InventoryReadError);
    await expect(act).rejects.toThrow('DescribeImageAttribute(ami-0000000b) failed: UnauthorizedOperation');
  });
});
