import {
  DescribeAutoScalingGroupsCommand,
  DescribeLaunchConfigurationsCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSnapshotsCommand,
  paginateDescribeImages,
} from '@aws-sdk/client-ec2';
import { ListImageRecipesCommand } from '@aws-sdk/client-imagebuilder';
import { GetParametersByPathCommand } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import {
  blogScenario,
  generatedScenario,
  richScenario,
  SimulatedAccount,
} from '../../cli/simulated-account/index.ts';
import { clientsFor } from './clients.ts';

const now = new Date('2025-01-15T12:00:00.000Z');

describe('blogScenario', () => {
  it('holds the blog post account: 20 tagged AMIs in four groups of five, plus test-delete', async () => {
    // Prepare
    const account = new SimulatedAccount();

    // Act
    const blog = blogScenario(account, { now });
    const { ec2 } = clientsFor(account);
    const { Images = [] } = await ec2.send(new DescribeImagesCommand({ Owners: ['self'] }));

    // Assess
    expect(Images).toHaveLength(21);
    expect(Object.keys(blog.byGroup).sort()).toEqual(['back.dev', 'back.prod', 'dev.front', 'front.prod']);
    expect(Object.values(blog.byGroup).map((group) => group.length)).toEqual([5, 5, 5, 5]);
    expect(new Set(Images.map((image) => image.CreationDate)).size).toBe(21);
    expect(blog.untagged).toMatchObject({ name: 'test-delete', creationDate: '2016-08-16T17:40:15.000Z' });
    expect(Images.find((image) => image.Name === 'test-delete')?.Tags).toBeUndefined();
    // The blog's --keep-previous 3 candidates are the two oldest of each group.
    expect(blog.byGroup['dev.front']?.slice(-2).map((image) => image.name)).toEqual([
      'front-ff5eac7',
      'front-a3c56c4',
    ]);
    expect(blog.byGroup['back.dev']?.slice(-2).map((image) => image.name)).toEqual([
      'back-285244c',
      'back-d358afc',
    ]);
    for (const image of Images) {
      expect(image.BlockDeviceMappings?.length).toBeGreaterThanOrEqual(1);
      expect(image.BlockDeviceMappings?.length).toBeLessThanOrEqual(2);
    }
    expect(account.instances.size + account.autoScalingGroups.size + account.launchTemplates.size).toBe(0);
  });

  it('gives the same ids for the same seed, and different ids for another seed', () => {
    // Prepare
    const ids = (seed: string) =>
      blogScenario(new SimulatedAccount({ seed }), { now }).images.map((image) => image.imageId);

    // Act
    const first = ids('demo');
    const second = ids('demo');
    const other = ids('other');

    // Assess
    expect(first).toEqual(second);
    expect(first).not.toEqual(other);
  });
});

describe('richScenario', () => {
  it('references each in-use AMI from exactly the source it describes', async () => {
    // Prepare
    const account = new SimulatedAccount();
    const rich = richScenario(account, { now });
    const { ec2, autoScaling, ssm, imageBuilder } = clientsFor(account);

    // Act
    const instances = await ec2.send(new DescribeInstancesCommand({}));
    const versions = await ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ Versions: ['$Default', '$Latest'], ResolveAlias: true }),
    );
    const webV1 = await ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: 'web', Versions: ['1'] }),
    );
    const overrideVersion = await ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: 'batch-arm', Versions: ['1'] }),
    );
    const groups = await autoScaling.send(new DescribeAutoScalingGroupsCommand({}));
    const configurations = await autoScaling.send(new DescribeLaunchConfigurationsCommand({}));
    const parameters = await ssm.send(
      new GetParametersByPathCommand({ Path: rich.ssmParameterPath, Recursive: true }),
    );
    const recipes = await imageBuilder.send(new ListImageRecipesCommand({}));

    // Assess
    const instanceStates = (instances.Reservations ?? []).flatMap((r) =>
      (r.Instances ?? []).map((i) => [i.ImageId, i.State?.Name]),
    );
    expect(instanceStates).toContainEqual([rich.images.stoppedInstance, 'stopped']);
    expect(instanceStates).toContainEqual([rich.images.terminatedInstanceOnly, 'terminated']);
    const defaultOrLatest = (versions.LaunchTemplateVersions ?? []).map((v) => v.LaunchTemplateData?.ImageId);
    expect(defaultOrLatest).toContain(rich.images.launchTemplateDefault);
    expect(defaultOrLatest).toContain(rich.images.launchTemplateLatest);
    expect(defaultOrLatest).not.toContain(rich.images.asgLaunchTemplateVersion);
    expect(defaultOrLatest).not.toContain(rich.images.mixedInstancesOverride);
    expect(webV1.LaunchTemplateVersions?.[0]?.LaunchTemplateData?.ImageId).toBe(
      rich.images.asgLaunchTemplateVersion,
    );
    expect(overrideVersion.LaunchTemplateVersions?.[0]?.LaunchTemplateData?.ImageId).toBe(
      rich.images.mixedInstancesOverride,
    );
    const byName = new Map((groups.AutoScalingGroups ?? []).map((g) => [g.AutoScalingGroupName, g]));
    expect(byName.get('web-canary')?.LaunchTemplate).toMatchObject({
      LaunchTemplateName: 'web',
      Version: '1',
    });
    expect(
      byName.get('batch')?.MixedInstancesPolicy?.LaunchTemplate?.Overrides?.[1]?.LaunchTemplateSpecification,
    ).toMatchObject({ LaunchTemplateName: 'batch-arm', Version: '1' });
    expect(byName.get('worker')).toMatchObject({ DesiredCapacity: 0, LaunchConfigurationName: 'worker-lc' });
    const lcImages = new Map(
      (configurations.LaunchConfigurations ?? []).map((lc) => [lc.LaunchConfigurationName, lc.ImageId]),
    );
    expect(lcImages.get('legacy-lc')).toBe(rich.images.detachedLaunchConfiguration);
    expect(lcImages.get('worker-lc')).toBe(rich.images.asgZeroCapacity);
    expect([...byName.values()].some((g) => g.LaunchConfigurationName === 'legacy-lc')).toBe(false);
    expect(parameters.Parameters?.map((p) => p.Value)).toEqual([rich.images.ssmParameter]);
    expect(recipes.imageRecipeSummaryList?.map((r) => r.parentImage)).toEqual([
      rich.images.imageRecipeParent,
    ]);
  });

  it('marks the protected AMIs and builds the orphan and shared snapshots', async () => {
    // Prepare
    const account = new SimulatedAccount();
    const rich = richScenario(account, { now });
    const { ec2 } = clientsFor(account);

    // Act
    const { Images = [] } = await ec2.send(new DescribeImagesCommand({ Owners: ['self'] }));
    const sharing = await ec2.send(
      new DescribeImageAttributeCommand({
        ImageId: rich.images.sharedWithAccount,
        Attribute: 'launchPermission',
      }),
    );
    const orphans = await ec2.send(
      new DescribeSnapshotsCommand({
        SnapshotIds: [rich.snapshots.orphanCreateImage, rich.snapshots.orphanCopyImage],
      }),
    );
    const sharedUsers = await ec2.send(
      new DescribeImagesCommand({
        Filters: [{ Name: 'block-device-mapping.snapshot-id', Values: [rich.snapshots.sharedByTwoImages] }],
      }),
    );

    // Assess
    const image = (id: string) => Images.find((i) => i.ImageId === id);
    expect(Images).toHaveLength(21 + 14);
    expect(image(rich.images.optOutTag)?.Tags).toContainEqual({ Key: 'amicleaner:keep', Value: 'true' });
    expect(image(rich.images.deregistrationProtection)?.DeregistrationProtection).toBe(
      'enabled-without-cooldown',
    );
    expect(sharing.LaunchPermissions).toEqual([{ UserId: '210987654321' }]);
    const existing = new Set(Images.map((i) => i.ImageId));
    for (const snapshot of orphans.Snapshots ?? []) {
      const named = /(?:for|DestinationAmi) (ami-[0-9a-f]{17})/.exec(snapshot.Description ?? '')?.[1];
      expect(named).toBeDefined();
      expect(existing.has(named)).toBe(false);
    }
    expect(orphans.Snapshots?.map((s) => s.Description?.split(' ')[0])).toEqual(['Created', 'Copied']);
    expect(sharedUsers.Images?.map((i) => i.ImageId).sort()).toEqual(
      [rich.images.sharedSnapshotCandidate, rich.images.optOutTag].sort(),
    );
  });

  it('makes every special AMI older than every blog AMI of its group', () => {
    // Prepare
    const account = new SimulatedAccount();

    // Act
    const rich = richScenario(account, { now });

    // Assess
    const oldestBlog = Math.min(
      ...rich.blog.images.filter((i) => i.name !== 'test-delete').map((i) => Date.parse(i.creationDate)),
    );
    for (const imageId of Object.values(rich.images)) {
      expect(Date.parse(account.images.get(imageId)?.creationDate ?? '')).toBeLessThan(oldestBlog);
    }
    expect(rich.candidateImageIds).toHaveLength(6);
    expect(rich.inUseImageIds).toHaveLength(9);
    expect(rich.protectedImageIds).toHaveLength(3);
  });
});

describe('generatedScenario', () => {
  // How fast this is belongs to `npm run bench` (planning at 100k AMIs), not to an assertion here.
  it('builds 100,000 images and pages through all of them', async () => {
    // Prepare
    const account = new SimulatedAccount();

    // Act
    const generated = generatedScenario(account, { images: 100_000, groups: 250, now, seed: 'bench' });
    const { ec2 } = clientsFor(account);
    let count = 0;
    let pages = 0;
    for await (const page of paginateDescribeImages({ client: ec2, pageSize: 1000 }, { Owners: ['self'] })) {
      count += page.Images?.length ?? 0;
      pages++;
    }

    // Assess
    expect(count).toBe(100_000);
    expect(pages).toBe(100);
    expect(generated.groups).toHaveLength(250);
    expect(generated.inUseImageIds).toHaveLength(250);
    expect(generated.orphanSnapshotIds).toHaveLength(500);
    expect(account.snapshots.size).toBe(generated.snapshotCount);
  });
});
